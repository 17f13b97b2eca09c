/* Adding to a counter in a BPF hash map, shared by the tools that count or
 * build histograms in the kernel.
 */
#ifndef __PYBCC_COUNTS_H
#define __PYBCC_COUNTS_H

#include <bpf/bpf_helpers.h>

/* map[key] += delta; false when the map is full. When two CPUs create the
 * same key at once, BPF_NOEXIST fails for one: it adds to the other's. */
static __always_inline bool map_add(void *map, void *key, u64 delta)
{
    u64 *n = bpf_map_lookup_elem(map, key);

    if (n) {
        __sync_fetch_and_add(n, delta);
        return true;
    }
    if (!bpf_map_update_elem(map, key, &delta, BPF_NOEXIST))
        return true;
    n = bpf_map_lookup_elem(map, key);
    if (!n)
        return false;
    __sync_fetch_and_add(n, delta);
    return true;
}

/* The time since the start stamp map[key] (bpf_ktime_get_ns) into *delta,
 * in ms or else us, and the stamp taken out; false when there is none (the
 * wait began before tracing did) or the clock ran backwards. */
static __always_inline bool take_elapsed(void *map, const void *key, bool ms, u64 *delta)
{
    u64 *tsp = bpf_map_lookup_elem(map, key);
    s64 ns;

    if (!tsp)
        return false;
    ns = bpf_ktime_get_ns() - *tsp;
    bpf_map_delete_elem(map, key);
    if (ns < 0)
        return false;
    *delta = ns / (ms ? 1000000 : 1000);
    return true;
}

#endif
