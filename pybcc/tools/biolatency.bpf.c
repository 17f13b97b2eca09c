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
#include <pybcc/blockio.h>
#include <pybcc/counts.h>
#include <pybcc/extension.h>

struct hist_key {
    char disk[DISK_NAME_LEN];
    u64 flags;
    u64 slot;
};

const volatile bool targ_queued = false;
const volatile bool targ_ms = false;
const volatile bool per_disk = false;
const volatile bool per_flag = false;

HASH_MAP(start, struct request *, u64, 10240);

HASH_MAP(hists, struct hist_key, u64, 10240);

/* flags: BPF_ANY for the earliest hook in use; BPF_NOEXIST on issue when
 * the queued time was already recorded. */
static __always_inline int trace_start(struct request *rq, u64 flags)
{
    u64 ts;

    if (!wanted(rq) || !in_cgroup())
        return 0;
    ts = bpf_ktime_get_ns();
    bpf_map_update_elem(&start, &rq, &ts, flags);
    return 0;
}

static __always_inline int trace_done(void *ctx, struct request *rq)
{
    struct hist_key key = {};
    u64 delta;

    if (!take_elapsed(&start, &rq, targ_ms, &delta))
        return 0;       // started before we did, or filtered out
    key.slot = log2_slot(delta);
    if (per_disk) {
        struct gendisk *disk = rq_disk(rq);
        if (disk)
            BPF_CORE_READ_STR_INTO(&key.disk, disk, disk_name);
    }
    if (per_flag)
        key.flags = BPF_CORE_READ(rq, cmd_flags);
    map_add(&hists, &key, 1);

    extension_add(delta);
    return 0;
}

static __always_inline int trace_issue(void *ctx, struct request *rq)
{
    return trace_start(rq, targ_queued ? BPF_NOEXIST : BPF_ANY);
}

static __always_inline int trace_queued(void *ctx, struct request *rq)
{
    return trace_start(rq, BPF_ANY);
}

RQ_HOOK(rq_issue, block_rq_issue, trace_issue)
/* -Q: block_io_start fires where the request is accounted (as bcc's
 * blk_account_io_start); older kernels lack it, so block_rq_insert. */
RQ_HOOK(io_start, block_io_start, trace_queued)
RQ_HOOK(rq_insert, block_rq_insert, trace_queued)
RQ_HOOK(rq_complete, block_rq_complete, trace_done)

char LICENSE[] SEC("license") = "GPL";
