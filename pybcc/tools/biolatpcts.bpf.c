// biolatpcts: latency counts of one block device's completed requests, by
// operation (read, write, discard, flush), in three resolutions: 100 slots
// of 100ms; those under 100ms again in 1ms slots, and those under 1ms in
// 10us slots. User space works out percentiles from them.
// The start is a time the request itself keeps (io_start_time_ns, the
// issue; start_time_ns; alloc_time_ns), read with CO-RE at completion.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <pybcc/maps.h>
#include <pybcc/blockio.h>

enum { FROM_ALLOC, AFTER_ALLOC, ON_DEVICE };
#define SLOTS 100
#define OPS 4
#define RES_SPAN (SLOTS * OPS)

/* After the slots, a count of requests whose alloc_time_ns the kernel
 * lacks (no CONFIG_BLK_RQ_ALLOC_TIME): -w from-rq-alloc cannot work. */
#define NO_ALLOC_TIME (3 * RES_SPAN)

const volatile u32 which = ON_DEVICE;

/* [resolution (100ms, 1ms, 10us)][op][slot], then NO_ALLOC_TIME */
PERCPU_ARRAY_MAP(lat_slots, u32, u64, 3 * RES_SPAN + 1);

struct request___alloc_time {
    u64 alloc_time_ns;
} __attribute__((preserve_access_index));

static __always_inline void add_one(u32 idx)
{
    u64 *n = bpf_map_lookup_elem(&lat_slots, &idx);

    if (n)
        *n += 1;
}

static __always_inline u64 start_time(struct request *rq)
{
    struct request___alloc_time *r = (void *)rq;

    if (which == ON_DEVICE)
        return BPF_CORE_READ(rq, io_start_time_ns);
    if (which == AFTER_ALLOC)
        return BPF_CORE_READ(rq, start_time_ns);
    if (!bpf_core_field_exists(r->alloc_time_ns)) {
        add_one(NO_ALLOC_TIME);
        return 0;
    }
    return BPF_CORE_READ(r, alloc_time_ns);
}

static __always_inline void bump(u32 res, u32 op, u64 slot)
{
    add_one(res * RES_SPAN + op * SLOTS + (slot < SLOTS - 1 ? slot : SLOTS - 1));
}

static __always_inline int trace_done(void *ctx, struct request *rq)
{
    u64 start, dur;
    u32 op;

    if (!wanted(rq))
        return 0;
    start = start_time(rq);
    if (!start)
        return 0;
    switch (BPF_CORE_READ(rq, cmd_flags) & REQ_OP_BITS_MASK) {
    case 0: op = 0; break;      // REQ_OP_READ
    case 1: op = 1; break;      // REQ_OP_WRITE
    case 3: op = 2; break;      // REQ_OP_DISCARD
    case 2: op = 3; break;      // REQ_OP_FLUSH
    default: return 0;
    }
    dur = bpf_ktime_get_ns() - start;
    bump(0, op, dur / 100000000);
    if (dur >= 100000000)
        return 0;
    bump(1, op, dur / 1000000);
    if (dur >= 1000000)
        return 0;
    bump(2, op, dur / 10000);
    return 0;
}

RQ_HOOK(rq_complete, block_rq_complete, trace_done)

char LICENSE[] SEC("license") = "GPL";
