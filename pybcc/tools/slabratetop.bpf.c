// slabratetop: kmem_cache_alloc() calls and bytes per slab cache, summed in
// the kernel. The kmem:kmem_cache_alloc tracepoint hands its program the
// cache itself since Linux 6.0 (name, object size); older kernels take
// bcc's kprobe.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <pybcc/maps.h>
#include <pybcc/twins.h>

#define CACHE_NAME_SIZE 32

struct info {
    char name[CACHE_NAME_SIZE];
};

struct val {
    u64 count;
    u64 size;
};

HASH_MAP(counts, struct info, struct val, 10240);

static __always_inline void add(struct info *key, u64 size)
{
    struct val zero = {}, *v;

    v = bpf_map_lookup_elem(&counts, key);
    if (!v) {
        bpf_map_update_elem(&counts, key, &zero, BPF_NOEXIST);
        v = bpf_map_lookup_elem(&counts, key);
        if (!v)
            return;
    }
    __sync_fetch_and_add(&v->count, 1);
    __sync_fetch_and_add(&v->size, size);
}

/* The tracepoint's own record, which kmem_cache_alloc has had since Linux
 * 6.0 (before, it shared kmem_alloc's): a CO-RE relocation against it fails
 * to load on older kernels, whose raw arguments hold no cache. */
struct trace_event_raw_kmem_cache_alloc___own {
    bool accounted;
} __attribute__((preserve_access_index));

/* Raw arguments since 6.0: (call_site, ptr, struct kmem_cache *s, gfp, node). */
static __always_inline int cache_alloc(struct kmem_cache *s)
{
    struct info key = {};

    /* a relocation, not an existence test: it must fail the load where the
     * record is missing, so that the kprobe is taken instead */
    if (!bpf_core_field_offset(struct trace_event_raw_kmem_cache_alloc___own, accounted))
        return 0;
    bpf_probe_read_kernel_str(&key.name, sizeof(key.name), BPF_CORE_READ(s, name));
    add(&key, BPF_CORE_READ(s, size));
    return 0;
}

BTF_RAW_TP(cache_alloc_tp, kmem_cache_alloc, cache_alloc((struct kmem_cache *)ctx[2]))

SEC("kprobe/kmem_cache_alloc")
int BPF_KPROBE(cache_alloc_kprobe, struct kmem_cache *cachep)
{
    struct info key = {};

    bpf_probe_read_kernel_str(&key.name, sizeof(key.name), BPF_CORE_READ(cachep, name));
    add(&key, BPF_CORE_READ(cachep, size));
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
