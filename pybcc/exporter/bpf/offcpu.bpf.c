// Off-CPU time: from a task's switch-out while blocked (not runnable) to
// its next switch-in, one histogram in ns. Preemptions (switched out while
// runnable) are run-queue waits, counted by runqueue and not here.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <pybcc/twins.h>
#include <pybcc/task.h>
#include <exporter/metrics.h>

#define TASK_RUNNING 0

const volatile bool by_cgroup = false;

struct blocked {
    u64 ts;
    u64 cgroup;         /* of the task, when by_cgroup */
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 16384);
    __type(key, u32);
    __type(value, struct blocked);
} blocked_at SEC(".maps");

METRIC_MAP(offcpu, u64, struct hist, 1024);     /* by cgroup id (0: all) */

static __always_inline int on_switch(struct task_struct *prev, struct task_struct *next)
{
    u32 tid = BPF_CORE_READ(prev, pid);
    struct blocked b = { .ts = bpf_ktime_get_ns() }, *bp;
    u64 cgroup;
    s64 delta;

    if (tid && task_state(prev) != TASK_RUNNING) {
        /* sched_switch runs in prev's context: current is prev */
        if (by_cgroup)
            b.cgroup = bpf_get_current_cgroup_id();
        bpf_map_update_elem(&blocked_at, &tid, &b, BPF_ANY);
    }
    tid = BPF_CORE_READ(next, pid);
    bp = bpf_map_lookup_elem(&blocked_at, &tid);
    if (!bp)
        return 0;
    delta = b.ts - bp->ts;
    cgroup = bp->cgroup;
    bpf_map_delete_elem(&blocked_at, &tid);
    if (delta >= 0)
        hist_add(&offcpu, &cgroup, delta);
    return 0;
}

BTF_RAW_TP(switch, sched_switch,
           on_switch((struct task_struct *)ctx[1], (struct task_struct *)ctx[2]))

char LICENSE[] SEC("license") = "GPL";
