// exitsnoop: one event per process (or thread) termination, from the
// sched:sched_process_exit tracepoint, which runs in the exiting task.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <pybcc/tool.h>

struct event {
    u64 start_time;
    u64 exit_time;
    u32 pid;
    u32 tid;
    u32 ppid;
    s32 exit_code;
    u32 sig_info;
    char comm[16];
};
PYBCC_RECORD(event);

const volatile u32 targ_pid = 0;
const volatile bool per_thread = false;
const volatile bool failed_only = false;

SEC("tracepoint/sched/sched_process_exit")
int sched_process_exit(void *ctx)
{
    struct task_struct *task = (void *)bpf_get_current_task();
    u32 pid = BPF_CORE_READ(task, tgid), tid = BPF_CORE_READ(task, pid);
    int code = BPF_CORE_READ(task, exit_code);
    struct event e = {};

    /* a process ends when its main thread does (unless --per-thread) */
    if (!per_thread && pid != tid)
        return 0;
    if (targ_pid && pid != targ_pid)
        return 0;
    if (failed_only && code == 0)
        return 0;
    e.start_time = BPF_CORE_READ(task, start_time);
    e.exit_time = bpf_ktime_get_ns();
    e.pid = pid;
    e.tid = tid;
    e.ppid = BPF_CORE_READ(task, real_parent, tgid);
    e.exit_code = code >> 8;
    e.sig_info = code & 0xFF;
    bpf_get_current_comm(e.comm, sizeof(e.comm));
    emit_event(ctx, &e, sizeof(e));
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
