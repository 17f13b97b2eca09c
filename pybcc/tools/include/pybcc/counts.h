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

#endif
