// oomkill: one event per OOM kill. Where kprobes exist, oom_kill_process()
// gives the victim and the OOM context's total pages; elsewhere the
// oom:mark_victim tracepoint, which fires in the same task (the one that
// ran the OOM killer) but knows nothing of the OOM context (pages = 0).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <pybcc/tool.h>

struct event {
    u32 fpid;
    u32 tpid;
    u64 pages;
    char fcomm[16];
    char tcomm[16];
};
PYBCC_RECORD(event);

SEC("kprobe/oom_kill_process")
int BPF_KPROBE(oom_kill_process, struct oom_control *oc, const char *message)
{
    struct task_struct *p = BPF_CORE_READ(oc, chosen);
    struct event e = {};

    e.fpid = bpf_get_current_pid_tgid() >> 32;
    e.tpid = BPF_CORE_READ(p, tgid);
    e.pages = BPF_CORE_READ(oc, totalpages);
    bpf_get_current_comm(e.fcomm, sizeof(e.fcomm));
    BPF_CORE_READ_STR_INTO(&e.tcomm, p, comm);
    emit_event(ctx, &e, sizeof(e));
    return 0;
}

/* The record since Linux 6.3; older kernels have the pid alone. */
struct trace_event_raw_mark_victim___comm {
    int pid;
    u32 __data_loc_comm;
} __attribute__((preserve_access_index));

SEC("tracepoint/oom/mark_victim")
int mark_victim(struct trace_event_raw_mark_victim___comm *ctx)
{
    struct event e = {};

    e.fpid = bpf_get_current_pid_tgid() >> 32;
    e.tpid = ctx->pid;
    bpf_get_current_comm(e.fcomm, sizeof(e.fcomm));
    /* the victim's comm joined the event in Linux 6.3 */
    if (bpf_core_field_exists(ctx->__data_loc_comm)) {
        u32 loc = BPF_CORE_READ(ctx, __data_loc_comm);
        bpf_probe_read_kernel_str(e.tcomm, sizeof(e.tcomm), (void *)ctx + (loc & 0xFFFF));
    }
    emit_event(ctx, &e, sizeof(e));
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
