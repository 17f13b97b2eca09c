// biolatency: block I/O latency histograms.
// A request's start time (issue, or with targ_queued its creation/insert) is
// kept per struct request; completion adds (now - start) to a log2 bucket,
// optionally keyed by disk name or by the request's cmd_flags.
// Each hook has a tp_btf and a raw_tp twin; both read the request with CO-RE.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <pybcc/tool.h>

#define DISK_NAME_LEN 32

struct hist_key {
    char disk[DISK_NAME_LEN];
    u64 flags;
    u64 slot;
};

struct ext_val {
    u64 total;
    u64 count;
};

const volatile bool targ_queued = false;
const volatile bool targ_ms = false;
const volatile bool per_disk = false;
const volatile bool per_flag = false;
const volatile bool filter_dev = false;
const volatile u32 targ_major = 0;
const volatile u32 targ_minor = 0;

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 10240);
    __type(key, struct request *);
    __type(value, u64);
} start SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 10240);
    __type(key, struct hist_key);
    __type(value, u64);
} hists SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, u32);
    __type(value, struct ext_val);
} extension SEC(".maps");

/* Kernels before 5.16 had the gendisk in the request itself. */
struct request___old {
    struct gendisk *rq_disk;
} __attribute__((preserve_access_index));

static __always_inline struct gendisk *rq_disk(struct request *rq)
{
    struct request___old *old = (void *)rq;

    if (bpf_core_field_exists(old->rq_disk))
        return BPF_CORE_READ(old, rq_disk);
    return BPF_CORE_READ(rq, q, disk);
}

static __always_inline int wanted(struct request *rq)
{
    struct gendisk *disk;

    if (!filter_dev)
        return 1;
    disk = rq_disk(rq);
    return disk && BPF_CORE_READ(disk, major) == targ_major &&
           BPF_CORE_READ(disk, first_minor) == targ_minor;
}

/* flags: BPF_ANY for the earliest hook in use; BPF_NOEXIST on issue when
 * the queued time was already recorded. */
static __always_inline int trace_start(struct request *rq, u64 flags)
{
    u64 ts;

    if (!wanted(rq))
        return 0;
    ts = bpf_ktime_get_ns();
    bpf_map_update_elem(&start, &rq, &ts, flags);
    return 0;
}

static __always_inline void add(void *map, void *key)
{
    u64 one = 1, *n = bpf_map_lookup_elem(map, key);

    if (n)
        __sync_fetch_and_add(n, 1);
    else if (bpf_map_update_elem(map, key, &one, BPF_NOEXIST))
        if ((n = bpf_map_lookup_elem(map, key)))
            __sync_fetch_and_add(n, 1);
}

static __always_inline int trace_done(struct request *rq)
{
    struct hist_key key = {};
    struct ext_val *ext;
    u64 *tsp, delta;
    u32 zero = 0;

    tsp = bpf_map_lookup_elem(&start, &rq);
    if (!tsp)
        return 0;       // started before we did, or filtered out
    delta = bpf_ktime_get_ns() - *tsp;
    bpf_map_delete_elem(&start, &rq);
    if ((s64)delta < 0)
        return 0;
    delta /= targ_ms ? 1000000 : 1000;

    key.slot = log2_slot(delta);
    if (per_disk) {
        struct gendisk *disk = rq_disk(rq);
        if (disk)
            BPF_CORE_READ_STR_INTO(&key.disk, disk, disk_name);
    }
    if (per_flag)
        key.flags = BPF_CORE_READ(rq, cmd_flags);
    add(&hists, &key);

    ext = bpf_map_lookup_elem(&extension, &zero);
    if (ext) {
        __sync_fetch_and_add(&ext->total, delta);
        __sync_fetch_and_add(&ext->count, 1);
    }
    return 0;
}

SEC("tp_btf/block_rq_issue")
int rq_issue_btf(u64 *ctx)
{
    return trace_start((struct request *)ctx[0], targ_queued ? BPF_NOEXIST : BPF_ANY);
}

SEC("raw_tp/block_rq_issue")
int rq_issue_raw(u64 *ctx)
{
    return trace_start((struct request *)ctx[0], targ_queued ? BPF_NOEXIST : BPF_ANY);
}

/* -Q: block_io_start fires where the request is accounted (as bcc's
 * blk_account_io_start); older kernels lack it, so block_rq_insert. */
SEC("tp_btf/block_io_start")
int io_start_btf(u64 *ctx)
{
    return trace_start((struct request *)ctx[0], BPF_ANY);
}

SEC("raw_tp/block_io_start")
int io_start_raw(u64 *ctx)
{
    return trace_start((struct request *)ctx[0], BPF_ANY);
}

SEC("tp_btf/block_rq_insert")
int rq_insert_btf(u64 *ctx)
{
    return trace_start((struct request *)ctx[0], BPF_ANY);
}

SEC("raw_tp/block_rq_insert")
int rq_insert_raw(u64 *ctx)
{
    return trace_start((struct request *)ctx[0], BPF_ANY);
}

SEC("tp_btf/block_rq_complete")
int rq_complete_btf(u64 *ctx)
{
    return trace_done((struct request *)ctx[0]);
}

SEC("raw_tp/block_rq_complete")
int rq_complete_raw(u64 *ctx)
{
    return trace_done((struct request *)ctx[0]);
}

char LICENSE[] SEC("license") = "GPL";
