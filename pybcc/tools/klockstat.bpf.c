// klockstat: kernel mutex wait (and, with kprobes, hold) times per call stack.
//
// Tracepoints lock:contention_begin/end (5.19+; tp_btf or raw_tp) give the
// wait of each contended mutex acquisition. Where kprobes exist, bcc's
// probes on mutex_lock (entry and return) and mutex_unlock also give hold
// times and count uncontended acquisitions.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <pybcc/tool.h>
#include <pybcc/stacks.h>
#include <pybcc/twins.h>

#define LCB_F_MUTEX (1U << 5)

const volatile u32 targ_tgid = 0;
const volatile u32 targ_tid = 0;


struct wait {
    u64 lock;
    u64 ts;
    s64 stack_id;
};

struct held_key {
    u64 lock;
    u32 tid;
    u32 pad;
};

struct lock_stat {
    u64 count;
    u64 total;
    u64 max;
};

HASH_MAP(waiting, u32, struct wait, 10240);

HASH_MAP(held, struct held_key, struct wait, 10240);

HASH_MAP(acq_stats, s64, struct lock_stat, 10240);

HASH_MAP(hld_stats, s64, struct lock_stat, 10240);

static __always_inline bool traced(u64 id)
{
    if (targ_tid)
        return (u32)id == targ_tid;
    return !targ_tgid || (id >> 32) == targ_tgid;
}

static __always_inline void account(void *stats, s64 stack_id, u64 delta)
{
    struct lock_stat zero = {}, *s;

    s = bpf_map_lookup_elem(stats, &stack_id);
    if (!s) {
        bpf_map_update_elem(stats, &stack_id, &zero, BPF_NOEXIST);
        s = bpf_map_lookup_elem(stats, &stack_id);
        if (!s)
            return;
    }
    __sync_fetch_and_add(&s->count, 1);
    __sync_fetch_and_add(&s->total, delta);
    if (delta > s->max)
        s->max = delta;
}

/* A wait begins (keep the first begin of one acquisition: a mutex spins,
 * then sleeps, each with its own contention_begin). */
static __always_inline int wait_begin(void *ctx, u64 lock)
{
    u64 id = bpf_get_current_pid_tgid();
    u32 tid = id;
    struct wait w = {}, *old;

    if (!traced(id))
        return 0;
    old = bpf_map_lookup_elem(&waiting, &tid);
    if (old && old->lock == lock)
        return 0;
    w.lock = lock;
    w.ts = bpf_ktime_get_ns();
    w.stack_id = bpf_get_stackid(ctx, &stack_traces, 0);
    bpf_map_update_elem(&waiting, &tid, &w, BPF_ANY);
    return 0;
}

/* The lock is taken: account the wait; with ``hold``, start its hold time. */
static __always_inline int wait_end(u64 lock, bool match_lock, bool hold)
{
    u64 id = bpf_get_current_pid_tgid(), now = bpf_ktime_get_ns();
    u32 tid = id;
    struct wait *w, h;
    struct held_key key = {};

    w = bpf_map_lookup_elem(&waiting, &tid);
    if (!w || (match_lock && w->lock != lock))
        return 0;
    account(&acq_stats, w->stack_id, now - w->ts);
    if (hold) {
        h = *w;
        h.ts = now;
        key.lock = w->lock;
        key.tid = tid;
        bpf_map_update_elem(&held, &key, &h, BPF_ANY);
    }
    bpf_map_delete_elem(&waiting, &tid);
    return 0;
}

static __always_inline int contention_begin(void *ctx, u64 lock, u32 flags)
{
    if (!(flags & LCB_F_MUTEX))
        return 0;
    return wait_begin(ctx, lock);
}

/* contention_begin(void *lock, unsigned int flags), contention_end(void *lock, int ret) */
BTF_RAW_TP(begin, contention_begin, contention_begin(ctx, ctx[0], (u32)ctx[1]))
BTF_RAW_TP(end, contention_end, wait_end(ctx[0], true, false))

/* bcc's kprobes */
SEC("kprobe/mutex_lock")
int BPF_KPROBE(mutex_lock_entry, void *lock)
{
    return wait_begin(ctx, (u64)lock);
}

SEC("kretprobe/mutex_lock")
int BPF_KRETPROBE(mutex_lock_return)
{
    return wait_end(0, false, true);
}

SEC("kprobe/mutex_unlock")
int BPF_KPROBE(mutex_unlock_entry, void *lock)
{
    struct held_key key = {.lock = (u64)lock, .tid = (u32)bpf_get_current_pid_tgid()};
    struct wait *h = bpf_map_lookup_elem(&held, &key);

    if (!h)
        return 0;
    account(&hld_stats, h->stack_id, bpf_ktime_get_ns() - h->ts);
    bpf_map_delete_elem(&held, &key);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
