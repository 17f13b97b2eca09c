/* BPF-side pieces of the block I/O tools (biolatency, biosnoop, biotop,
 * biostacks...): a request's disk on old and new kernels, the -d disk
 * filter, its direction, a bio's disk, and each block_rq tracepoint hook
 * as a tp_btf/raw_tp twin.
 */
#ifndef __PYBCC_BLOCKIO_H
#define __PYBCC_BLOCKIO_H

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <pybcc/twins.h>

#define DISK_NAME_LEN 32

const volatile bool filter_cg = false;       /* -c/--cgroup: a cgroup v2 subtree */
const volatile u64 targ_cgid = 0;
const volatile u32 targ_cglevel = 0;
const volatile bool filter_dev = false;
const volatile u32 targ_major = 0;
const volatile u32 targ_minor = 0;

/* Kernels before 5.16 had the gendisk in the request itself. */
struct request___old {
    struct gendisk *rq_disk;
} __attribute__((preserve_access_index));

/* The ___new flavours name fields that a vmlinux.h of an older kernel
 * lacks, so that this header compiles against any kernel's types. */
struct request_queue___new {
    struct gendisk *disk;
} __attribute__((preserve_access_index));

static __always_inline struct gendisk *rq_disk(struct request *rq)
{
    struct request___old *old = (void *)rq;
    struct request_queue___new *q;

    if (bpf_core_field_exists(old->rq_disk))
        return BPF_CORE_READ(old, rq_disk);
    q = (void *)BPF_CORE_READ(rq, q);
    return BPF_CORE_READ(q, disk);
}

/* The current task is in the -c cgroup or below it (or there is no -c). */
static __always_inline bool in_cgroup(void)
{
    return !filter_cg || bpf_get_current_ancestor_cgroup_id(targ_cglevel) == targ_cgid;
}

/* Before Linux 5.12 a bio pointed at its gendisk. */
struct bio___old {
    struct gendisk *bi_disk;
} __attribute__((preserve_access_index));

struct bio___new {
    struct block_device *bi_bdev;
} __attribute__((preserve_access_index));

static __always_inline struct gendisk *bio_disk(struct bio *bio)
{
    struct bio___old *old = (void *)bio;
    struct bio___new *new = (void *)bio;

    if (bpf_core_field_exists(old->bi_disk))
        return BPF_CORE_READ(old, bi_disk);
    return BPF_CORE_READ(new, bi_bdev, bd_disk);
}

struct bio___partno {
    u8 bi_partno;
} __attribute__((preserve_access_index));

/* The bio's device (partition) as the kernel's dev_t, major << 20 | minor. */
static __always_inline u32 bio_devt(struct bio *bio)
{
    struct bio___old *old = (void *)bio;
    struct bio___new *new = (void *)bio;
    struct bio___partno *part = (void *)bio;

    if (bpf_core_field_exists(old->bi_disk)) {
        struct gendisk *disk = BPF_CORE_READ(old, bi_disk);
        return (BPF_CORE_READ(disk, major) << 20) +
               BPF_CORE_READ(disk, first_minor) + BPF_CORE_READ(part, bi_partno);
    }
    return BPF_CORE_READ(new, bi_bdev, bd_dev);
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

#define REQ_OP_BITS_MASK 0xff
#define REQ_OP_WRITE_VALUE 1

/* The request writes (REQ_OP_WRITE; not flushes, discards...). */
static __always_inline bool rq_is_write(struct request *rq)
{
    return (BPF_CORE_READ(rq, cmd_flags) & REQ_OP_BITS_MASK) == REQ_OP_WRITE_VALUE;
}

/* Programs NAME_btf and NAME_raw on tracepoint TP, whose first argument is
 * the request; both return FN(ctx, request). */
#define RQ_HOOK(name, tp, fn) BTF_RAW_TP(name, tp, fn(ctx, (struct request *)ctx[0]))

#endif
