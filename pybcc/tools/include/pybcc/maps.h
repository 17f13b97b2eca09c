/* A BPF hash map declared in one line (the networking tools keep several:
 * per-socket, per-thread and per-flow state). */
#ifndef __PYBCC_MAPS_H
#define __PYBCC_MAPS_H

#include <bpf/bpf_helpers.h>

#define HASH_MAP(name, ktype, vtype, entries)       \
    struct {                                        \
        __uint(type, BPF_MAP_TYPE_HASH);            \
        __uint(max_entries, entries);               \
        __type(key, ktype);                         \
        __type(value, vtype);                       \
    } name SEC(".maps")

#endif
