/* Per-CPU arrays of counters that only the BPF side writes and user space
 * sums (vfsstat, vfscount, dcstat, readahead): no atomics needed. */
#ifndef __PYBCC_PERCPU_COUNTERS_H
#define __PYBCC_PERCPU_COUNTERS_H

#include <bpf/bpf_helpers.h>

#define DEFINE_PERCPU_COUNTERS(name, n, vtype)          \
    struct {                                            \
        __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);        \
        __uint(max_entries, n);                         \
        __type(key, u32);                               \
        __type(value, vtype);                           \
    } name SEC(".maps")

/* map[index] += delta on this CPU */
static __always_inline void counter_add(void *map, u32 index, s64 delta)
{
    s64 *v = bpf_map_lookup_elem(map, &index);

    if (v)
        *v += delta;
}

#endif
