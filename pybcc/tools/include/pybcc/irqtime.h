/* BPF-side pieces of hardirqs and softirqs: per-CPU entry timestamps and
 * the totals map. The tool defines struct entry_val (starting with u64 ts)
 * and struct irq_key (with a u64 slot) before including this header.
 */
#ifndef __PYBCC_IRQTIME_H
#define __PYBCC_IRQTIME_H

#include <bpf/bpf_helpers.h>
#include <pybcc/maps.h>
#include <pybcc/counts.h>

enum { MODE_TIME, MODE_COUNT, MODE_DIST };

const volatile int mode = MODE_TIME;
const volatile u64 factor = 1000;
const volatile s32 targ_cpu = -1;

struct entry_key {
    u32 tid;        // with the CPU: irqs run in the idle task (tid 0) of every CPU
    u32 cpu;
};

HASH_MAP(start, struct entry_key, struct entry_val, 10240);

HASH_MAP(dist, struct irq_key, u64, 10240);

static __always_inline void add(struct irq_key *key, u64 n)
{
    map_add(&dist, key, n);
}

/* Fills k for the current task and CPU; false when -c excludes this CPU. */
static __always_inline bool this_cpu(struct entry_key *k)
{
    k->tid = (u32)bpf_get_current_pid_tgid();
    k->cpu = bpf_get_smp_processor_id();
    return targ_cpu < 0 || k->cpu == (u32)targ_cpu;
}

/* A time in mode MODE_DIST is counted in its log2 slot, else summed
 * (MODE_COUNT: counted). */
static __always_inline void add_time(struct irq_key *key, u64 delta)
{
    if (mode == MODE_DIST) {
        key->slot = log2_slot(delta / factor);
        add(key, 1);
    } else {
        add(key, mode == MODE_COUNT ? 1 : delta);
    }
}

/* The entry of the irq ending now on this CPU (fills k), or NULL: -c
 * excludes this CPU, or the entry was before tracing began. The caller
 * deletes it from start when done. */
static __always_inline struct entry_val *ending(struct entry_key *k)
{
    if (!this_cpu(k))
        return NULL;
    return bpf_map_lookup_elem(&start, k);
}

#endif
