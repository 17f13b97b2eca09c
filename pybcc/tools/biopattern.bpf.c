// biopattern: random vs sequential block I/O per disk. A completed request
// is sequential when it starts where the disk's previous one ended.
// block_rq_complete as tp_btf, else raw_tp; the request is read with CO-RE.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <pybcc/maps.h>
#include <pybcc/blockio.h>

struct counter {
    u64 sequential;
    u64 random;
    u64 bytes;
};

/* by the kernel's dev_t of the disk (major << 20 | minor) */
HASH_MAP(counters, u32, struct counter, 64);

/* Kept apart from counters, which user space empties every interval. */
HASH_MAP(last_sectors, u32, u64, 64);  // the sector after the disk's last request

static __always_inline int trace_done(u64 *ctx, struct request *rq)
{
    u32 nr_bytes = (u32)ctx[2];   // block_rq_complete(rq, error, nr_bytes)
    struct counter *c, zero = {};
    struct gendisk *disk;
    u64 sector, *last, next;
    u32 dev;

    if (!wanted(rq))
        return 0;
    disk = rq_disk(rq);
    if (!disk)
        return 0;
    dev = BPF_CORE_READ(disk, major) << 20 | BPF_CORE_READ(disk, first_minor);
    sector = BPF_CORE_READ(rq, __sector);
    next = sector + (nr_bytes >> 9);
    last = bpf_map_lookup_elem(&last_sectors, &dev);
    if (!last) {
        // the disk's first request: nothing to compare with
        bpf_map_update_elem(&last_sectors, &dev, &next, BPF_ANY);
        return 0;
    }
    c = map_lookup_or_init(&counters, &dev, &zero);
    if (!c)
        return 0;
    if (*last == sector)
        __sync_fetch_and_add(&c->sequential, 1);
    else
        __sync_fetch_and_add(&c->random, 1);
    __sync_fetch_and_add(&c->bytes, nr_bytes);
    *last = next;
    return 0;
}

RQ_HOOK(rq_complete, block_rq_complete, trace_done)

char LICENSE[] SEC("license") = "GPL";
