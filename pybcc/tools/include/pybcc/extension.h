/* The -e/--extension summary of the histogram tools (biolatency, cpudist):
 * total and count of the values, which the Python side reads and resets.
 */
#ifndef __PYBCC_EXTENSION_H
#define __PYBCC_EXTENSION_H

#include <bpf/bpf_helpers.h>
#include <pybcc/maps.h>

struct ext_val {
    u64 total;
    u64 count;
};

ARRAY_MAP(extension, u32, struct ext_val, 1);

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
