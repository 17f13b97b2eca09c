// biotop: block I/O by process and disk, summed in the kernel per interval.
// The request's creator (block_io_start, or block_rq_insert on older
// kernels) gives the process; issue to completion gives the time.
// Each hook has a tp_btf and a raw_tp twin; requests are read with CO-RE.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <pybcc/maps.h>
#include <pybcc/blockio.h>
#include <pybcc/rqinfo.h>

const volatile u32 targ_pid = 0;

/* bcc's key: process, direction and disk */
struct info {
    u32 pid;
    u32 rwflag;
    u32 major;
    u32 minor;
    char name[16];
};

struct val {
    u64 bytes;
    u64 us;
    u32 io;
};

HASH_MAP(counts, struct info, struct val, 10240);

static __always_inline int trace_create(void *ctx, struct request *rq)
{
    if (!targ_pid || (bpf_get_current_pid_tgid() >> 32) == targ_pid)
        remember_creator(rq);
    return 0;
}

static __always_inline int trace_issue(void *ctx, struct request *rq)
{
    if (!targ_pid || bpf_map_lookup_elem(&rq_creators, &rq))
        remember_issue(rq);
    return 0;
}

static __always_inline int trace_done(void *ctx, struct request *rq)
{
    struct rq_issue *s = bpf_map_lookup_elem(&rq_issues, &rq);
    struct info key = {};
    struct gendisk *disk;
    struct rq_creator *w;
    struct val zero = {}, *v;

    if (!s)
        return 0;       // issued before we started, or not ours
    w = bpf_map_lookup_elem(&rq_creators, &rq);
    if (w) {
        key.pid = w->pid;
        __builtin_memcpy(key.name, w->comm, sizeof(key.name));
    } else if (targ_pid) {
        goto out;
    } else {
        key.name[0] = '?';  // created before we started (bcc prints the completing task)
    }
    disk = rq_disk(rq);
    if (disk) {
        key.major = BPF_CORE_READ(disk, major);
        key.minor = BPF_CORE_READ(disk, first_minor);
    }
    key.rwflag = rq_is_write(rq);
    v = map_lookup_or_init(&counts, &key, &zero);
    if (!v)
        goto out;
    __sync_fetch_and_add(&v->bytes, s->data_len);
    __sync_fetch_and_add(&v->us, (bpf_ktime_get_ns() - s->ts) / 1000);
    __sync_fetch_and_add(&v->io, 1);
out:
    forget_request(rq);
    return 0;
}

RQ_CREATE_AND_ISSUE_HOOKS(trace_create, trace_issue)
RQ_HOOK(rq_complete, block_rq_complete, trace_done)

char LICENSE[] SEC("license") = "GPL";
