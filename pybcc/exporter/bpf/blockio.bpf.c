// Block I/O: latency (issue to completion, ns) and size (bytes) histograms
// per disk and operation. Hooks are tp_btf/raw_tp twins (exporter/hooks.h).
//
// The disk is keyed by its dev_t (user space names it from /sys/dev/block)
// instead of its name: no string read, an 8-byte key to hash instead of 40.
//
// Where the kernel stamps requests itself, no map of requests is needed:
// with QUEUE_FLAG_STATS (set while blk-stat users such as writeback
// throttling, on by default, watch the queue) blk_mq_start_request() writes
// io_start_time_ns and stats_sectors right after the block_rq_issue
// tracepoint, for its own I/O statistics. The issue hook then returns at
// once and the completion reads those two fields: a map lookup per issue
// and per completion saved (each ~300 ns here, on cold cache lines). Other
// queues, and passthrough requests, keep the map of issue times.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <pybcc/blockio.h>
#include <exporter/metrics.h>
#include <exporter/hooks.h>

#define REQ_OP_BITS 8
#define MINORBITS 20        /* the kernel's dev_t: major << 20 | minor */

struct io_key {
    u32 dev;
    u32 op;             /* REQ_OP_* (read, write, flush, discard, ...) */
};

struct started {
    u64 ts;
    u64 bytes;
};

/* request -> when it was issued, ts 0 once completed. Entries are kept and
 * written in place (a lookup, no bucket lock, no allocation): an update and
 * a delete per I/O cost most of these programs' time. A queue's requests
 * are allocated once and reused, so the keys repeat; LRU evicts those of
 * queues that are gone. */
struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, 10240);
    __type(key, struct request *);
    __type(value, struct started);
} start SEC(".maps");

/* both histograms of a (disk, operation) in one value: one lookup per I/O */
struct io_hists {
    struct hist latency;
    struct hist size;
};

static const struct io_hists empty_io_hists = {};

/* Off: always the map of issue times (tests compare the two ways). */
const volatile bool use_kernel_stamps = true;

#define REQ_OP_DRV_IN_ 34           /* passthrough: not stamped by the kernel */
#define REQ_OP_DRV_OUT_ 35

/* Kernels before 5.16 had a bool instead of the count. */
struct blk_queue_stats___old {
    bool enable_accounting;
} __attribute__((preserve_access_index));

struct blk_queue_stats___new {
    int accounting;
} __attribute__((preserve_access_index));

/* Whether blk_mq_start_request() will stamp rq: its queue has
 * QUEUE_FLAG_STATS, i.e. blk-stat callbacks or accounting (the flag's
 * number is in an anonymous enum, which CO-RE cannot name: the
 * conditions the kernel sets it on are read instead). */
static __always_inline bool kernel_stamps(bool direct, struct request *rq)
{
    struct blk_queue_stats *st;
    struct blk_queue_stats___old *old;
    struct blk_queue_stats___new *new;
    struct request_queue *q;
    u32 op;

    if (!use_kernel_stamps || !bpf_core_field_exists(rq->io_start_time_ns))
        return false;
    op = FIELD(direct, rq, cmd_flags) & ((1 << REQ_OP_BITS) - 1);
    if (op == REQ_OP_DRV_IN_ || op == REQ_OP_DRV_OUT_)
        return false;
    q = FIELD(direct, rq, q);
    if (!q)
        return false;
    st = FIELD(direct, q, stats);
    if (!st)
        return false;
    if ((u64)FIELD(direct, st, callbacks.next) != (u64)&st->callbacks)
        return true;
    old = (void *)st;
    new = (void *)st;
    if (bpf_core_field_exists(old->enable_accounting))
        return FIELD(direct, old, enable_accounting);
    return FIELD(direct, new, accounting) > 0;
}

METRIC_MAP(hists, struct io_key, struct io_hists, 1024);

/* The request's disk: a plain load in tp_btf (rq_disk() in
 * pybcc/blockio.h probe-reads, for the raw_tp twin). */
static __always_inline struct gendisk *disk_of(bool direct, struct request *rq)
{
    struct request___old *old = (void *)rq;

    if (!direct)
        return rq_disk(rq);
    if (bpf_core_field_exists(old->rq_disk))
        return old->rq_disk;
    return ((struct request_queue___new *)rq->q)->disk;
}

static __always_inline int on_issue(bool direct, struct request *rq)
{
    struct started s, *kept;

    if (kernel_stamps(direct, rq))
        return 0;       // the completion reads the kernel's stamp
    s.ts = bpf_ktime_get_ns();
    s.bytes = FIELD(direct, rq, __data_len);
    kept = bpf_map_lookup_elem(&start, &rq);
    if (kept)
        *kept = s;
    else
        bpf_map_update_elem(&start, &rq, &s, BPF_ANY);
    return 0;
}

/* When and how big rq was at issue: the kernel's stamp if it made one
 * (stats_sectors is 16 bits: a larger request shows its full size in
 * __data_len unless it completed in parts), else ours; false if neither. */
static __always_inline bool issued(bool direct, struct request *rq, struct started *out)
{
    struct started *s;
    u64 bytes, left;

    out->ts = use_kernel_stamps && bpf_core_field_exists(rq->io_start_time_ns) ?
              FIELD(direct, rq, io_start_time_ns) : 0;
    if (out->ts) {
        bytes = (u64)FIELD(direct, rq, stats_sectors) << 9;
        left = FIELD(direct, rq, __data_len);
        out->bytes = bytes > left ? bytes : left;
        return true;
    }
    s = bpf_map_lookup_elem(&start, &rq);
    if (!s || !s->ts)
        return false;   // issued before we started, or completed already
    *out = *s;
    s->ts = 0;
    return true;
}

/* block_rq_complete(rq, error, nr_bytes): counted once, at the piece that
 * completes the request (nr_bytes covers what is left of it). */
static __always_inline int on_complete(bool direct, struct request *rq, u32 nr_bytes)
{
    struct io_key key = {};
    struct io_hists *h;
    struct started s;
    struct gendisk *disk;
    s64 delta;

    if (nr_bytes < FIELD(direct, rq, __data_len))
        return 0;       // a partial completion: the rest is still in flight
    if (!issued(direct, rq, &s))
        return 0;
    delta = bpf_ktime_get_ns() - s.ts;
    disk = disk_of(direct, rq);
    if (disk)
        key.dev = ((u32)FIELD(direct, disk, major) << MINORBITS) |
                  (u32)FIELD(direct, disk, first_minor);
    key.op = FIELD(direct, rq, cmd_flags) & ((1 << REQ_OP_BITS) - 1);
    h = bpf_map_lookup_elem(&hists, &key);
    if (!h) {
        bpf_map_update_elem(&hists, &key, &empty_io_hists, BPF_NOEXIST);
        h = bpf_map_lookup_elem(&hists, &key);
        if (!h) {
            note_map_full();
            return 0;
        }
    }
    if (delta >= 0)
        hist_count(&h->latency, delta);
    hist_count(&h->size, s.bytes);
    return 0;
}

/* block_rq_issue(rq), block_rq_complete(rq, error, nr_bytes) */
DIRECT_TWINS(rq_issue, block_rq_issue, on_issue, (struct request *)ctx[0])
DIRECT_TWINS(rq_complete, block_rq_complete, on_complete, (struct request *)ctx[0], (u32)ctx[2])

char LICENSE[] SEC("license") = "GPL";
