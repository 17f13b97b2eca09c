// Run-queue latency: from wakeup (or preemption while runnable) to the
// next switch-in, one histogram in ns.
//
// sched_switch and sched_wakeup are among the most frequent events of a
// busy machine, so: the histogram is per CPU (plain adds, no cache line
// bouncing between CPUs), and the tp_btf programs read task fields
// directly; their raw_tp twins (kernels without tp_btf) use probe reads.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <exporter/metrics.h>
#include <exporter/hooks.h>

#define TASK_RUNNING 0

/* tid -> when it was queued, 0 once it ran. Entries are kept and written
 * in place (a lookup, no bucket lock): a hash update and delete per event
 * cost most of these programs' time. LRU evicts the tids of exited tasks. */
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

/* Kernels before 5.14 called __state "state". */
struct task_struct___old {
    long state;
} __attribute__((preserve_access_index));

static __always_inline long state_of(bool direct, struct task_struct *t)
{
    struct task_struct___old *old = (void *)t;

    if (bpf_core_field_exists(old->state))
        return FIELD(direct, old, state);
    return FIELD(direct, t, __state);
}

static __always_inline int enqueue(bool direct, struct task_struct *p)
{
    u32 tid = FIELD(direct, p, pid);
    u64 ts, *queued;

    if (!tid)    // the idle tasks
        return 0;
    ts = bpf_ktime_get_ns();
    queued = bpf_map_lookup_elem(&queued_at, &tid);
    if (queued)
        *queued = ts;
    else
        bpf_map_update_elem(&queued_at, &tid, &ts, BPF_ANY);
    return 0;
}

static __always_inline int on_switch(bool direct, struct task_struct *prev,
                                     struct task_struct *next)
{
    u32 tid, zero = 0;
    struct hist *h;
    u64 *ts, slot;
    s64 delta;

    if (state_of(direct, prev) == TASK_RUNNING)
        enqueue(direct, prev);
    tid = FIELD(direct, next, pid);
    if (!tid)    // switching to idle
        return 0;
    ts = bpf_map_lookup_elem(&queued_at, &tid);
    if (!ts || !*ts)
        return 0;
    delta = bpf_ktime_get_ns() - *ts;
    *ts = 0;
    h = bpf_map_lookup_elem(&latency, &zero);
    if (!h || delta < 0)
        return 0;
    slot = bit_width(delta);
    if (slot >= HIST_SLOTS)
        slot = HIST_SLOTS - 1;
    h->slots[slot] += 1;        // this CPU's copy: no atomics
    h->sum += delta;
    return 0;
}

#define TASK(i) ((struct task_struct *)ctx[i])

DIRECT_TWINS(wakeup, sched_wakeup, enqueue, TASK(0))
DIRECT_TWINS(wakeup_new, sched_wakeup_new, enqueue, TASK(0))
/* sched_switch(bool preempt, prev, next, prev_state) */
DIRECT_TWINS(switch, sched_switch, on_switch, TASK(1), TASK(2))

char LICENSE[] SEC("license") = "GPL";
