// biosnoop: one event per completed block I/O request, with the process
// that created it, its disk, sector, size and latency.
// Each hook has a tp_btf and a raw_tp twin; requests are read with CO-RE.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <pybcc/tool.h>
#include <pybcc/blockio.h>
#include <pybcc/rqinfo.h>

enum { P_UNKNOWN, P_SEQUENTIAL, P_RANDOM };

struct event {
    u64 ts;         // usecs
    u64 delta;      // issue to completion, ns
    u64 qdelta;     // creation to issue, ns
    u64 sector;
    u64 len;
    u32 pid;
    u32 rwflag;
    u32 pattern;
    char comm[16];
    char disk[DISK_NAME_LEN];
};
PYBCC_RECORD(event);

/* major << 32 | first_minor -> the sector after the last request's end */
HASH_MAP(last_sectors, u64, u64, 1024);

/* The request is created in the context of the process doing the I/O. */
const volatile u64 min_ns = 0;     /* -m: only requests this slow */

static __always_inline int trace_create(void *ctx, struct request *rq)
{
    if (wanted(rq) && in_cgroup())
        remember_creator(rq);
    return 0;
}

static __always_inline int trace_issue(void *ctx, struct request *rq)
{
    if (wanted(rq))
        remember_issue(rq);
    return 0;
}

static __always_inline int trace_done(void *ctx, struct request *rq)
{
    struct rq_issue *s;
    struct rq_creator *w;
    struct gendisk *disk;
    struct event e = {};
    u64 now, devkey, *last, next;

    s = bpf_map_lookup_elem(&rq_issues, &rq);
    if (!s)
        return 0;       // issued before we started
    now = bpf_ktime_get_ns();
    e.ts = now / 1000;
    e.delta = now - s->ts;
    e.len = s->data_len;
    e.sector = s->sector;
    w = bpf_map_lookup_elem(&rq_creators, &rq);
    if (w) {
        e.pid = w->pid;
        __builtin_memcpy(e.comm, w->comm, sizeof(e.comm));
        if (w->ts && w->ts <= s->ts)
            e.qdelta = s->ts - w->ts;
    } else {
        e.comm[0] = '?';
    }
    e.rwflag = rq_is_write(rq);

    disk = rq_disk(rq);
    if (disk) {
        BPF_CORE_READ_STR_INTO(&e.disk, disk, disk_name);
        devkey = (u64)BPF_CORE_READ(disk, major) << 32 | BPF_CORE_READ(disk, first_minor);
        last = bpf_map_lookup_elem(&last_sectors, &devkey);
        if (last)
            e.pattern = *last == e.sector ? P_SEQUENTIAL : P_RANDOM;
        next = e.sector + e.len / 512;
        bpf_map_update_elem(&last_sectors, &devkey, &next, BPF_ANY);
    }
    /* -m and -c hide requests, after they have set the pattern's last sector */
    if (e.delta >= min_ns && (w || !filter_cg))
        emit_event(ctx, &e, sizeof(e));
    forget_request(rq);
    return 0;
}

RQ_CREATE_AND_ISSUE_HOOKS(trace_create, trace_issue)
RQ_HOOK(rq_complete, block_rq_complete, trace_done)

char LICENSE[] SEC("license") = "GPL";
