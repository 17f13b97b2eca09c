// Run-queue latency: from wakeup (or preemption while runnable) to the
// next switch-in, one histogram in ns.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <pybcc/twins.h>
#include <pybcc/task.h>
#include <exporter/metrics.h>

#define TASK_RUNNING 0

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 16384);
    __type(key, u32);
    __type(value, u64);
} queued_at SEC(".maps");

METRIC_MAP(latency, u32, struct hist, 1);

static __always_inline int enqueue(struct task_struct *p)
{
    u32 tid = BPF_CORE_READ(p, pid);
    u64 ts = bpf_ktime_get_ns();

    if (tid)    // the idle tasks
        bpf_map_update_elem(&queued_at, &tid, &ts, BPF_ANY);
    return 0;
}

static __always_inline int on_switch(struct task_struct *prev, struct task_struct *next)
{
    u32 tid, zero = 0;
    u64 *ts;
    s64 delta;

    if (task_state(prev) == TASK_RUNNING)
        enqueue(prev);
    tid = BPF_CORE_READ(next, pid);
    ts = bpf_map_lookup_elem(&queued_at, &tid);
    if (!ts)
        return 0;
    delta = bpf_ktime_get_ns() - *ts;
    bpf_map_delete_elem(&queued_at, &tid);
    if (delta >= 0)
        hist_add(&latency, &zero, delta);
    return 0;
}

BTF_RAW_TP(wakeup, sched_wakeup, enqueue((struct task_struct *)ctx[0]))
BTF_RAW_TP(wakeup_new, sched_wakeup_new, enqueue((struct task_struct *)ctx[0]))
/* sched_switch(bool preempt, prev, next, prev_state) */
BTF_RAW_TP(switch, sched_switch,
           on_switch((struct task_struct *)ctx[1], (struct task_struct *)ctx[2]))

char LICENSE[] SEC("license") = "GPL";
