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

/* A field of a task: a plain load from a tp_btf program's typed pointer,
 * a probe read otherwise (``direct`` is a constant after inlining). */
#define TASK_FIELD(direct, t, f) ((direct) ? (t)->f : BPF_CORE_READ(t, f))

static __always_inline long state_of(struct task_struct *t, bool direct)
{
    struct task_struct___old *old = (void *)t;

    if (bpf_core_field_exists(old->state))
        return TASK_FIELD(direct, old, state);
    return TASK_FIELD(direct, t, __state);
}

static __always_inline int enqueue(struct task_struct *p, bool direct)
{
    u32 tid = TASK_FIELD(direct, p, pid);
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

static __always_inline int on_switch(struct task_struct *prev, struct task_struct *next,
                                     bool direct)
{
    u32 tid, zero = 0;
    struct hist *h;
    u64 *ts, slot;
    s64 delta;

    if (state_of(prev, direct) == TASK_RUNNING)
        enqueue(prev, direct);
    tid = TASK_FIELD(direct, next, pid);
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

#define HOOK(name, tp, expr_btf, expr_raw)      \
    SEC("tp_btf/" #tp)                          \
    int name##_btf(u64 *ctx) { return expr_btf; } \
    SEC("raw_tp/" #tp)                          \
    int name##_raw(u64 *ctx) { return expr_raw; }

#define TASK(i) ((struct task_struct *)ctx[i])

HOOK(wakeup, sched_wakeup, enqueue(TASK(0), true), enqueue(TASK(0), false))
HOOK(wakeup_new, sched_wakeup_new, enqueue(TASK(0), true), enqueue(TASK(0), false))
/* sched_switch(bool preempt, prev, next, prev_state) */
HOOK(switch, sched_switch, on_switch(TASK(1), TASK(2), true), on_switch(TASK(1), TASK(2), false))

char LICENSE[] SEC("license") = "GPL";
