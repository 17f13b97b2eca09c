// Run-queue latency: from wakeup (or preemption while runnable) to the
// next switch-in, one histogram in ns.
//
// sched_switch and sched_wakeup are among the most frequent events of a
// busy machine. Where the kernel keeps sched_info (CONFIG_SCHED_INFO:
// /proc/PID/schedstat) and groups tasks (CONFIG_FAIR_GROUP_SCHED), it
// already stamps each task when it is queued (sched_info.last_queued, on
// its run queue's clock) and computes the wait itself just after
// sched_switch: reading that stamp and the run queue's clock in
// sched_switch gives the kernel's own figure (what it adds to run_delay)
// with one hook, no map of tasks and no wakeup hooks (switch_*). Two
// differences from stamping at wakeup: a task moved to another CPU while
// waiting counts from its arrival on the new queue, and a wakeup that
// preempts the running task usually reads 0 (the scheduler skips the
// clock update in between). The set's from_wakeup option, and kernels
// without sched_info, stamp tasks at wakeup in an LRU map instead
// (wakeup_*, wakeup_new_*, switch_ts_*). The histogram is per CPU either
// way (plain adds, no cache line bouncing between CPUs).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <exporter/metrics.h>
#include <exporter/hooks.h>

#define TASK_RUNNING 0

/* tid -> when it was queued, 0 once it ran (fallback only). Entries are
 * kept and written in place (a lookup, no bucket lock): a hash update and
 * delete per event cost most of these programs' time. LRU evicts the tids
 * of exited tasks. */
struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, 16384);
    __type(key, u32);
    __type(value, u64);
} queued_at SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, u32);
    __type(value, struct hist);
} latency SEC(".maps");

/* task_struct___old/___new: its state before and since 5.14 */
#include <pybcc/task.h>

static __always_inline long state_of(bool direct, struct task_struct *t)
{
    struct task_struct___old *old = (void *)t;
    struct task_struct___new *new = (void *)t;

    if (bpf_core_field_exists(old->state))
        return FIELD(direct, old, state);
    return FIELD(direct, new, __state);
}

static __always_inline void count(s64 delta)
{
    u32 zero = 0, slot;
    struct hist *h = bpf_map_lookup_elem(&latency, &zero);

    if (!h || delta < 0)
        return;
    slot = bit_width(delta);
    if (slot >= HIST_SLOTS)
        slot = HIST_SLOTS - 1;
    h->slots[slot] += 1;        // this CPU's copy: no atomics
    h->sum += delta;
}

/* sched_info: next waited from last_queued to now on this CPU's run queue
 * clock, which __schedule() updated just before this tracepoint. The run
 * queue is found from prev, the current task (its cfs_rq points back to it
 * with group scheduling; the runqueues per-CPU symbol is not in kallsyms
 * on kernels without CONFIG_KALLSYMS_ALL, so bpf_this_cpu_ptr cannot). */
static __always_inline int on_switch(bool direct, struct task_struct *prev,
                                     struct task_struct *next)
{
    struct cfs_rq *cfs;
    struct rq *rq;
    u64 queued;

    if (!FIELD(direct, next, pid))    // switching to idle
        return 0;
    queued = FIELD(direct, next, sched_info.last_queued);
    if (!queued)                      // not queued since it last ran
        return 0;
    cfs = FIELD(direct, prev, se.cfs_rq);
    if (!cfs)
        return 0;
    rq = FIELD(direct, cfs, rq);
    if (!rq)
        return 0;
    count(FIELD(direct, rq, clock) - queued);
    return 0;
}

/* The fallback: stamp tasks in queued_at when woken or preempted. */
static __always_inline int enqueue_at(bool direct, struct task_struct *p, u64 ts)
{
    u32 tid = FIELD(direct, p, pid);
    u64 *queued;

    if (!tid)    // the idle tasks
        return 0;
    queued = bpf_map_lookup_elem(&queued_at, &tid);
    if (queued)
        *queued = ts;
    else
        bpf_map_update_elem(&queued_at, &tid, &ts, BPF_ANY);
    return 0;
}

static __always_inline int enqueue(bool direct, struct task_struct *p)
{
    return enqueue_at(direct, p, bpf_ktime_get_ns());
}

static __always_inline int on_switch_ts(bool direct, struct task_struct *prev,
                                        struct task_struct *next)
{
    u64 now = bpf_ktime_get_ns(), *ts;
    u32 tid;
    s64 delta;

    if (state_of(direct, prev) == TASK_RUNNING)
        enqueue_at(direct, prev, now);
    tid = FIELD(direct, next, pid);
    if (!tid)    // switching to idle
        return 0;
    ts = bpf_map_lookup_elem(&queued_at, &tid);
    if (!ts || !*ts)
        return 0;
    delta = now - *ts;
    *ts = 0;
    count(delta);
    return 0;
}

#define TASK(i) ((struct task_struct *)ctx[i])

/* sched_switch(bool preempt, prev, next, prev_state) */
DIRECT_TWINS(switch, sched_switch, on_switch, TASK(1), TASK(2))
DIRECT_TWINS(wakeup, sched_wakeup, enqueue, TASK(0))
DIRECT_TWINS(wakeup_new, sched_wakeup_new, enqueue, TASK(0))
DIRECT_TWINS(switch_ts, sched_switch, on_switch_ts, TASK(1), TASK(2))

char LICENSE[] SEC("license") = "GPL";
