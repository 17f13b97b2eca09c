// pidpersec: count new tasks (processes and threads, as bcc's sched_fork
// kprobe does) from the sched:sched_process_fork tracepoint.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <pybcc/tool.h>
#include <pybcc/counts.h>

const volatile u32 targ_pid = 0;    /* only forks by this process (pybcc extension) */

HASH_MAP(forks, u32, u64, 1);

SEC("tracepoint/sched/sched_process_fork")
int process_fork(struct trace_event_raw_sched_process_fork *ctx)
{
    u32 zero = 0;

    /* the tracepoint runs in the forking task */
    if (targ_pid && (bpf_get_current_pid_tgid() >> 32) != targ_pid)
        return 0;
    map_add(&forks, &zero, 1);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
