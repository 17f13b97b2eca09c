/* Per-CPU arrays of counters that only the BPF side writes and user space
 * sums (vfsstat, vfscount, dcstat, readahead): no atomics needed. */
#ifndef __PYBCC_PERCPU_COUNTERS_H
#define __PYBCC_PERCPU_COUNTERS_H

#include <bpf/bpf_helpers.h>
#include <pybcc/maps.h>

#define DEFINE_PERCPU_COUNTERS(name, n, vtype) PERCPU_ARRAY_MAP(name, u32, vtype, n)

/* map[index] += delta on this CPU */
static __always_inline void counter_add(void *map, u32 index, s64 delta)
{
    s64 *v = bpf_map_lookup_elem(map, &index);

    if (v)
        *v += delta;
}

#endif
