// Block I/O: latency (issue to completion, ns) and size (bytes) histograms
// per disk and operation. Hooks are tp_btf/raw_tp twins (exporter/hooks.h).
//
// The disk is keyed by its dev_t (user space names it from /sys/dev/block)
// instead of its name: no string read, an 8-byte key to hash instead of 40.
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
    return rq->q->disk;
}

static __always_inline int on_issue(bool direct, struct request *rq)
{
    struct started s = {
        .ts = bpf_ktime_get_ns(),
        .bytes = FIELD(direct, rq, __data_len),
    };
    struct started *kept = bpf_map_lookup_elem(&start, &rq);

    if (kept)
        *kept = s;
    else
        bpf_map_update_elem(&start, &rq, &s, BPF_ANY);
    return 0;
}

static __always_inline int on_complete(bool direct, struct request *rq)
{
    struct io_key key = {};
    struct io_hists *h;
    struct started *s;
    struct gendisk *disk;
    s64 delta;

    s = bpf_map_lookup_elem(&start, &rq);
    if (!s || !s->ts)
        return 0;       // issued before we started, or completed already
    delta = bpf_ktime_get_ns() - s->ts;
    s->ts = 0;
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
    hist_count(&h->size, s->bytes);
    return 0;
}

/* block_rq_issue(rq), block_rq_complete(rq, error, nr_bytes) */
DIRECT_TWINS(rq_issue, block_rq_issue, on_issue, (struct request *)ctx[0])
DIRECT_TWINS(rq_complete, block_rq_complete, on_complete, (struct request *)ctx[0])

char LICENSE[] SEC("license") = "GPL";
