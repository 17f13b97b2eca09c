/* One-line map declarations for the tools' BPF C.
 *
 * A map is declared the way libbpf reads it (a BTF-defined struct in the
 * ".maps" section); these macros write that struct once, so that a tool says
 * only what differs: HASH_MAP(start, u32, u64, 10240);
 * Also the lookup that makes a missing entry, shared by the counting tools.
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

/* A stack-trace map: stack id -> up to 127 frames (bpf_get_stackid's). */
#define STACK_TRACE_MAP(name, entries)                   \
    struct {                                             \
        __uint(type, BPF_MAP_TYPE_STACK_TRACE);          \
        __uint(max_entries, entries);                    \
        __uint(key_size, sizeof(u32));                   \
        __uint(value_size, 127 * sizeof(u64));           \
    } name SEC(".maps")

/* map[key], made from *init first when missing; NULL when the map is full.
 * When two CPUs make the same key at once, BPF_NOEXIST keeps the first and
 * both get it. */
static __always_inline void *map_lookup_or_init(void *map, const void *key, const void *init)
{
    void *v = bpf_map_lookup_elem(map, key);

    if (v)
        return v;
    bpf_map_update_elem(map, key, init, BPF_NOEXIST);
    return bpf_map_lookup_elem(map, key);
}

#endif
