/* In-kernel aggregation for pybcc exporter: counters and log2 histograms
 * kept in hash maps that user space reads at scrape time.
 *
 * A histogram is one map value per label set (not one entry per slot), so
 * a scrape costs one map entry per series. Slot i holds the values v with
 * floor(log2 v) == i - 1, i.e. [2^(i-1), 2^i - 1]; slot 0 holds v == 0.
 * Every value in slot i is <= 2^i - 1, which makes that the exact `le` of
 * the cumulative bucket ending at slot i.
 *
 * When a map is full the insert fails: map_full counts those per CPU, and
 * the exporter reports them (the series is dropped in the kernel).
 */
#ifndef __PYBCC_EXPORTER_METRICS_H
#define __PYBCC_EXPORTER_METRICS_H

#include <bpf/bpf_helpers.h>

#define HIST_SLOTS 65           /* 0, then one per bit of a u64 */

struct hist {
    u64 slots[HIST_SLOTS];
    u64 sum;                    /* of the values, for _sum */
};

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, u32);
    __type(value, u64);
} map_full SEC(".maps");

/* A zeroed histogram to insert from (too big for the 512-byte stack). */
static const struct hist empty_hist = {};

static __always_inline void note_map_full(void)
{
    u32 zero = 0;
    u64 *n = bpf_map_lookup_elem(&map_full, &zero);

    if (n)
        *n += 1;
}

/* Number of significant bits of v: 0 for 0, 1 for 1, 2 for 2..3, ... */
static __always_inline u32 bit_width(u64 v)
{
    u32 n = 0;

    if (v >> 32) { n += 32; v >>= 32; }
    if (v >> 16) { n += 16; v >>= 16; }
    if (v >> 8)  { n += 8;  v >>= 8; }
    if (v >> 4)  { n += 4;  v >>= 4; }
    if (v >> 2)  { n += 2;  v >>= 2; }
    if (v >> 1)  { n += 1;  v >>= 1; }
    return n + (u32)v;
}

/* The value of map[key] to add delta to; NULL when delta went in as the
 * key's first value (nothing left to add) or the map is full. */
static __always_inline u64 *counter_of(void *map, void *key, u64 delta)
{
    u64 *n = bpf_map_lookup_elem(map, key);

    if (n)
        return n;
    /* two CPUs may create the key at once: the loser adds to the winner's
     * (in a per-CPU map the insert sets this CPU's copy, the others are 0) */
    if (!bpf_map_update_elem(map, key, &delta, BPF_NOEXIST))
        return NULL;
    n = bpf_map_lookup_elem(map, key);
    if (!n)
        note_map_full();
    return n;
}

/* map[key] += delta for a u64 counter map. */
static __always_inline void counter_add(void *map, void *key, u64 delta)
{
    u64 *n = counter_of(map, key, delta);

    if (n)
        __sync_fetch_and_add(n, delta);
}

/* The same for a per-CPU map: a plain add to this CPU's copy, no atomic on
 * a line that other CPUs write. */
static __always_inline void percpu_counter_add(void *map, void *key, u64 delta)
{
    u64 *n = counter_of(map, key, delta);

    if (n)
        *n += delta;
}

/* Count value v in histogram h (shared between CPUs: atomic adds). */
static __always_inline void hist_count(struct hist *h, u64 v)
{
    u32 slot = bit_width(v);

    if (slot >= HIST_SLOTS)
        slot = HIST_SLOTS - 1;
    __sync_fetch_and_add(&h->slots[slot], 1);
    __sync_fetch_and_add(&h->sum, v);
}

/* Count value v in the histogram map[key]. */
static __always_inline void hist_add(void *map, void *key, u64 v)
{
    struct hist *h = bpf_map_lookup_elem(map, key);

    if (!h) {
        bpf_map_update_elem(map, key, &empty_hist, BPF_NOEXIST);
        h = bpf_map_lookup_elem(map, key);
        if (!h) {
            note_map_full();
            return;
        }
    }
    hist_count(h, v);
}

/* A hash map of NAME: key type KEY, value type VALUE, at most N entries
 * (the exporter resizes it to the configured cap before load); a per-CPU
 * one with PERCPU_METRIC_MAP. */
#define TYPED_METRIC_MAP(map_type, name, key_t, value_t, n) \
    struct {                                            \
        __uint(type, map_type);                         \
        __uint(max_entries, n);                         \
        __type(key, key_t);                             \
        __type(value, value_t);                         \
    } name SEC(".maps")
#define METRIC_MAP(name, key_t, value_t, n) \
    TYPED_METRIC_MAP(BPF_MAP_TYPE_HASH, name, key_t, value_t, n)
#define PERCPU_METRIC_MAP(name, key_t, value_t, n) \
    TYPED_METRIC_MAP(BPF_MAP_TYPE_PERCPU_HASH, name, key_t, value_t, n)

#endif
