/* What the block I/O tools remember about a request between its hooks:
 * who created it (the process doing the I/O, at block_io_start or
 * block_rq_insert) and when it was issued with its size and sector
 * (block_rq_issue). Used by biosnoop, biotop and biostacks.
 */
#ifndef __PYBCC_RQINFO_H
#define __PYBCC_RQINFO_H

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <pybcc/maps.h>

struct rq_creator {
    u64 ts;         // creation (queued) time, ns
    u32 pid;
    char comm[16];
};

struct rq_issue {
    u64 ts;         // issue time, ns
    u64 data_len;
    u64 sector;
};

HASH_MAP(rq_creators, struct request *, struct rq_creator, 10240);

HASH_MAP(rq_issues, struct request *, struct rq_issue, 10240);

/* The current task created rq. */
static __always_inline void remember_creator(struct request *rq)
{
    struct rq_creator c = {};

    c.ts = bpf_ktime_get_ns();
    c.pid = bpf_get_current_pid_tgid() >> 32;
    bpf_get_current_comm(&c.comm, sizeof(c.comm));
    bpf_map_update_elem(&rq_creators, &rq, &c, BPF_ANY);
}

static __always_inline void remember_issue(struct request *rq)
{
    struct rq_issue s = {};

    s.ts = bpf_ktime_get_ns();
    s.data_len = BPF_CORE_READ(rq, __data_len);
    s.sector = BPF_CORE_READ(rq, __sector);
    bpf_map_update_elem(&rq_issues, &rq, &s, BPF_ANY);
}

static __always_inline void forget_request(struct request *rq)
{
    bpf_map_delete_elem(&rq_issues, &rq);
    bpf_map_delete_elem(&rq_creators, &rq);
}

/* The hooks that fill those maps through the tool's CREATE and ISSUE
 * functions (which filter, then call remember_*): block_io_start, or
 * block_rq_insert before Linux 6.5, and block_rq_issue. Needs blockio.h. */
#define RQ_CREATE_AND_ISSUE_HOOKS(create, issue)    \
    RQ_HOOK(io_start, block_io_start, create)       \
    RQ_HOOK(rq_insert, block_rq_insert, create)     \
    RQ_HOOK(rq_issue, block_rq_issue, issue)

#endif
