/* The -e/--extension summary of the histogram tools (biolatency, cpudist):
 * total and count of the values, which the Python side reads and resets.
 */
#ifndef __PYBCC_EXTENSION_H
#define __PYBCC_EXTENSION_H

#include <bpf/bpf_helpers.h>

struct ext_val {
    u64 total;
    u64 count;
};

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, u32);
    __type(value, struct ext_val);
} extension SEC(".maps");

static __always_inline void extension_add(u64 value)
{
    u32 zero = 0;
    struct ext_val *ext = bpf_map_lookup_elem(&extension, &zero);

    if (ext) {
        __sync_fetch_and_add(&ext->total, value);
        __sync_fetch_and_add(&ext->count, 1);
    }
}

#endif
