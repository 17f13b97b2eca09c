/* One-line map declarations for the tools' BPF C.
 *
 * A map is declared the way libbpf reads it (a BTF-defined struct in the
 * ".maps" section); these macros write that struct once, so that a tool says
 * only what differs: HASH_MAP(start, u32, u64, 10240);
 */
#ifndef __PYBCC_MAPS_H
#define __PYBCC_MAPS_H

#include <bpf/bpf_helpers.h>

#define PYBCC_MAP(name, map_type, key_t, value_t, entries) \
    struct {                                               \
        __uint(type, map_type);                            \
        __uint(max_entries, entries);                      \
        __type(key, key_t);                                \
        __type(value, value_t);                            \
    } name SEC(".maps")

#define HASH_MAP(name, key_t, value_t, entries) \
    PYBCC_MAP(name, BPF_MAP_TYPE_HASH, key_t, value_t, entries)
#define LRU_HASH_MAP(name, key_t, value_t, entries) \
    PYBCC_MAP(name, BPF_MAP_TYPE_LRU_HASH, key_t, value_t, entries)
#define PERCPU_HASH_MAP(name, key_t, value_t, entries) \
    PYBCC_MAP(name, BPF_MAP_TYPE_PERCPU_HASH, key_t, value_t, entries)
#define LRU_PERCPU_HASH_MAP(name, key_t, value_t, entries) \
    PYBCC_MAP(name, BPF_MAP_TYPE_LRU_PERCPU_HASH, key_t, value_t, entries)
#define ARRAY_MAP(name, key_t, value_t, entries) \
    PYBCC_MAP(name, BPF_MAP_TYPE_ARRAY, key_t, value_t, entries)
#define PERCPU_ARRAY_MAP(name, key_t, value_t, entries) \
    PYBCC_MAP(name, BPF_MAP_TYPE_PERCPU_ARRAY, key_t, value_t, entries)

#endif
