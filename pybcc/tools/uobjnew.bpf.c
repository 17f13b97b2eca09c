// uobjnew: allocations of a process by type: its runtime's USDT object
// allocation probes (type name and size from the arguments the cookie
// names), or for C a uprobe on malloc, counted by block size.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "pybcc/langs.h"
#include "pybcc/maps.h"

#define NAME_LEN 50     /* bcc's */

struct alloc_key {
    u64 size;           /* C: the block size */
    u64 kind;           /* a probe's fixed name (langs.py Alloc.fixed_name), 0: none */
    char name[56];      /* the type's name, NAME_LEN bytes at most */
};

struct alloc_val {
    u64 total_size;
    u64 num_allocs;
};

HASH_MAP(allocs, struct alloc_key, struct alloc_val, 10240);

static __always_inline void count(struct alloc_key *key, u64 size)
{
    struct alloc_val zero = {}, *v = map_lookup_or_init(&allocs, key, &zero);

    if (!v)
        return;
    __sync_fetch_and_add(&v->num_allocs, 1);
    __sync_fetch_and_add(&v->total_size, size);
}

/* cookie: name argument (bits 0-3), its length (4-7), size (8-11), kind (16-23) */
SEC("usdt")
int alloc_usdt(struct pt_regs *ctx)
{
    u64 c = bpf_usdt_cookie(ctx);
    struct alloc_key key = {};

    key.kind = (c >> 16) & 0xff;
    lang_string(ctx, key.name, NAME_LEN, c & 0xf, (c >> 4) & 0xf);
    count(&key, lang_arg(ctx, (c >> 8) & 0xf));
    return 0;
}

SEC("uprobe")
int BPF_KPROBE(alloc_malloc, size_t size)
{
    struct alloc_key key = {};

    key.size = size;
    count(&key, size);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
