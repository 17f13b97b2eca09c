// Process execs and exits by command name. Exits count processes (the
// thread group leader), not threads.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <pybcc/twins.h>
#include <exporter/metrics.h>

struct comm_key {
    char comm[16];
};

METRIC_MAP(execs, struct comm_key, u64, 4096);
METRIC_MAP(exits, struct comm_key, u64, 4096);

/* Both tracepoints run in the task itself (current), so its comm and ids
 * come from helpers that read current: no probe reads of the task. */
static __always_inline int count_comm(void *map)
{
    struct comm_key key = {};

    bpf_get_current_comm(&key.comm, sizeof(key.comm));
    counter_add(map, &key, 1);
    return 0;
}

static __always_inline int on_exit(void)
{
    u64 id = bpf_get_current_pid_tgid();

    if ((u32)id != id >> 32)        // a thread, not the process
        return 0;
    return count_comm(&exits);
}

/* sched_process_exec(p, old_pid, bprm) in p: p->comm is already the new one */
BTF_RAW_TP(exec, sched_process_exec, count_comm(&execs))
/* sched_process_exit(p, ...) in p */
BTF_RAW_TP(exit, sched_process_exit, on_exit())

char LICENSE[] SEC("license") = "GPL";
