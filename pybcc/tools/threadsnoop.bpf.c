// threadsnoop: a uprobe on libc's pthread_create sends who created a
// thread and the thread's start routine (resolved to a symbol in user space).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <pybcc/tool.h>

struct event {
    u64 ts;
    u64 start;
    u32 pid;
    u32 pad;
    char comm[16];
};
PYBCC_RECORD(event);

const volatile u32 targ_pid = 0;

SEC("uprobe/libc:pthread_create")
int BPF_UPROBE(pthread_create_entry, void *thread, void *attr, void *start_routine)
{
    struct event e = {};

    e.pid = bpf_get_current_pid_tgid() >> 32;
    if (targ_pid && e.pid != targ_pid)
        return 0;
    e.ts = bpf_ktime_get_ns();
    e.start = (u64)start_routine;
    bpf_get_current_comm(e.comm, sizeof(e.comm));
    emit_event(ctx, &e, sizeof(e));
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
