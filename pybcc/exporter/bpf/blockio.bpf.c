// Block I/O: latency (issue to completion, ns) and size (bytes) histograms
// per disk and operation. Hooks are tp_btf/raw_tp twins (pybcc/blockio.h).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <pybcc/blockio.h>
#include <exporter/metrics.h>

#define REQ_OP_BITS 8

struct io_key {
    char disk[DISK_NAME_LEN];
    u32 op;             /* REQ_OP_* (read, write, flush, discard, ...) */
    u32 pad;
};

struct started {
    u64 ts;
    u64 bytes;
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 10240);
    __type(key, struct request *);
    __type(value, struct started);
} start SEC(".maps");

METRIC_MAP(latency, struct io_key, struct hist, 1024);
METRIC_MAP(size, struct io_key, struct hist, 1024);

static __always_inline int on_issue(void *ctx, struct request *rq)
{
    struct started s = {
        .ts = bpf_ktime_get_ns(),
        .bytes = BPF_CORE_READ(rq, __data_len),
    };

    bpf_map_update_elem(&start, &rq, &s, BPF_ANY);
    return 0;
}

static __always_inline int on_complete(void *ctx, struct request *rq)
{
    struct io_key key = {};
    struct started *s;
    struct gendisk *disk;
    s64 delta;

    s = bpf_map_lookup_elem(&start, &rq);
    if (!s)
        return 0;       // issued before we started
    delta = bpf_ktime_get_ns() - s->ts;
    disk = rq_disk(rq);
    if (disk)
        BPF_CORE_READ_STR_INTO(&key.disk, disk, disk_name);
    key.op = BPF_CORE_READ(rq, cmd_flags) & ((1 << REQ_OP_BITS) - 1);
    if (delta >= 0)
        hist_add(&latency, &key, delta);
    hist_add(&size, &key, s->bytes);
    bpf_map_delete_elem(&start, &rq);
    return 0;
}

RQ_HOOK(rq_issue, block_rq_issue, on_issue)
RQ_HOOK(rq_complete, block_rq_complete, on_complete)

char LICENSE[] SEC("license") = "GPL";
