// slabratetop: kmem_cache_alloc() calls and bytes per slab cache, summed in
// the kernel. The kmem:kmem_cache_alloc tracepoint carries the cache's name
// and object size (Linux 6.1+: bytes_alloc is s->size); older kernels lack
// the name there (this program then fails to load) and take bcc's kprobe.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <pybcc/maps.h>

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

SEC("tracepoint/kmem/kmem_cache_alloc")
int cache_alloc_tp(struct trace_event_raw_kmem_cache_alloc *ctx)
{
    struct info key = {};
    u32 loc = ctx->__data_loc_name;

    bpf_probe_read_kernel_str(&key.name, sizeof(key.name), (void *)ctx + (loc & 0xFFFF));
    add(&key, ctx->bytes_alloc);
    return 0;
}

SEC("kprobe/kmem_cache_alloc")
int BPF_KPROBE(cache_alloc_kprobe, struct kmem_cache *cachep)
{
    struct info key = {};

    bpf_probe_read_kernel_str(&key.name, sizeof(key.name), BPF_CORE_READ(cachep, name));
    add(&key, BPF_CORE_READ(cachep, size));
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
