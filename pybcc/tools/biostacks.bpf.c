// biostacks: block I/O latency histograms per initiating kernel stack
// (libbpf-tools' tool). A request's stack, process and disk are taken where
// it is accounted (block_io_start, else blk_account_io_start) and the
// histogram slot where its accounting ends (block_io_done, else
// blk_account_io_done). A bio merged into a request (the kprobe on
// blk_account_io_merge_bio, where kprobes exist) takes its stack over.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <pybcc/tool.h>
#include <pybcc/blockio.h>
#include <pybcc/counts.h>
#include <pybcc/stacks.h>

#define MINORBITS 20

const volatile bool targ_ms = false;

struct initiator {
    u32 pid;        // the thread, as libbpf-tools shows it
    u32 dev;        // major << 20 | first minor
    s32 kstack;
    u32 pad;
    char comm[16];
};

struct started {
    u64 ts;
    struct initiator who;
};

struct hist_key {
    struct initiator who;
    u64 slot;
};

HASH_MAP(started_rqs, struct request *, struct started, 10240);

HASH_MAP(hists, struct hist_key, u64, 10240);

/* MERGE: a bio merged into a started request takes it over; FIRST: the
 * first of several hooks (block_rq_insert, then block_rq_issue) wins. */
enum { START, MERGE, FIRST };

static __always_inline int trace_start(void *ctx, struct request *rq, int how)
{
    struct started s = {}, *sp = 0;
    struct gendisk *disk;

    if (!wanted(rq))
        return 0;
    if (how != START) {
        sp = bpf_map_lookup_elem(&started_rqs, &rq);
        if (how == FIRST && sp)
            return 0;
        if (how == MERGE && !sp)
            return 0;
    }
    if (!sp)
        sp = &s;
    disk = rq_disk(rq);
    sp->ts = bpf_ktime_get_ns();
    sp->who.pid = (u32)bpf_get_current_pid_tgid();
    sp->who.dev = disk ? (BPF_CORE_READ(disk, major) << MINORBITS) |
                         BPF_CORE_READ(disk, first_minor) : 0;
    sp->who.kstack = bpf_get_stackid(ctx, &stack_traces, 0);
    bpf_get_current_comm(&sp->who.comm, sizeof(sp->who.comm));
    if (sp == &s)
        bpf_map_update_elem(&started_rqs, &rq, &s, BPF_ANY);
    return 0;
}

static __always_inline int trace_done(void *ctx, struct request *rq)
{
    struct started *s = bpf_map_lookup_elem(&started_rqs, &rq);
    struct hist_key key = {};
    s64 delta;

    if (!s)
        return 0;       // accounted before we started, or filtered out
    delta = bpf_ktime_get_ns() - s->ts;
    if (delta >= 0) {
        key.who = s->who;
        key.slot = log2_slot(delta / (targ_ms ? 1000000 : 1000));
        map_add(&hists, &key, 1);
    }
    bpf_map_delete_elem(&started_rqs, &rq);
    return 0;
}

static __always_inline int trace_io_start(void *ctx, struct request *rq)
{
    return trace_start(ctx, rq, START);
}

static __always_inline int trace_rq_start(void *ctx, struct request *rq)
{
    return trace_start(ctx, rq, FIRST);
}

RQ_HOOK(io_start, block_io_start, trace_io_start)
RQ_HOOK(io_done, block_io_done, trace_done)
/* Where the accounting functions are inlined (6.1's blk_account_io_start)
 * and no block_io tracepoints: the request's insertion or issue, and its
 * completion. */
RQ_HOOK(rq_insert, block_rq_insert, trace_rq_start)
RQ_HOOK(rq_issue, block_rq_issue, trace_rq_start)
RQ_HOOK(rq_complete, block_rq_complete, trace_done)

/* Before Linux 6.5: the accounting functions (__blk_account_io_* in 5.x/6.x). */
SEC("fentry/blk_account_io_start")
int BPF_PROG(account_start_fentry, struct request *rq) { return trace_start(ctx, rq, START); }
SEC("fentry/__blk_account_io_start")
int BPF_PROG(account_start_fentry2, struct request *rq) { return trace_start(ctx, rq, START); }
SEC("fentry/blk_account_io_done")
int BPF_PROG(account_done_fentry, struct request *rq) { return trace_done(ctx, rq); }
SEC("fentry/__blk_account_io_done")
int BPF_PROG(account_done_fentry2, struct request *rq) { return trace_done(ctx, rq); }
SEC("kprobe")
int BPF_KPROBE(account_start_kprobe, struct request *rq) { return trace_start(ctx, rq, START); }
SEC("kprobe")
int BPF_KPROBE(account_done_kprobe, struct request *rq) { return trace_done(ctx, rq); }
SEC("kprobe/blk_account_io_merge_bio")
int BPF_KPROBE(merge_bio_kprobe, struct request *rq) { return trace_start(ctx, rq, MERGE); }

char LICENSE[] SEC("license") = "GPL";
