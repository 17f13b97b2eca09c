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

static __always_inline int count_comm(void *map, struct task_struct *task)
{
    struct comm_key key = {};

    BPF_CORE_READ_STR_INTO(&key.comm, task, comm);
    counter_add(map, &key, 1);
    return 0;
}

static __always_inline int on_exit(struct task_struct *task)
{
    if (BPF_CORE_READ(task, pid) != BPF_CORE_READ(task, tgid))
        return 0;
    return count_comm(&exits, task);
}

/* sched_process_exec(p, old_pid, bprm): p->comm is already the new one */
BTF_RAW_TP(exec, sched_process_exec, count_comm(&execs, (struct task_struct *)ctx[0]))
BTF_RAW_TP(exit, sched_process_exit, on_exit((struct task_struct *)ctx[0]))

char LICENSE[] SEC("license") = "GPL";
