// swapin: swap-ins counted by process. Where kprobes exist, bcc's
// swap_readpage()/swap_read_folio(); elsewhere the block:block_bio_queue
// tracepoint, for read bios to a swap partition or device (user space keeps
// their numbers in swap_devs): the reads swap_read_folio() sends there (not
// those zswap answers from memory, nor swap files' reads, which go to their
// file system's device among its other reads).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <pybcc/maps.h>
#include <pybcc/blockio.h>
#include <pybcc/counts.h>

#define REQ_OP_READ_VALUE 0

struct swapper {
    u32 pid;
    char comm[16];
};

HASH_MAP(counts, struct swapper, u64, 10240);

HASH_MAP(swap_devs, u32, u8, 64);      // dev_t, major << 20 | minor

static __always_inline int count_swapin(void)
{
    struct swapper key = {};

    key.pid = bpf_get_current_pid_tgid() >> 32;
    bpf_get_current_comm(&key.comm, sizeof(key.comm));
    map_add(&counts, &key, 1);
    return 0;
}

SEC("kprobe")
int swap_read_kprobe(void *ctx)
{
    return count_swapin();
}

static __always_inline int bio_queued(struct bio *bio)
{
    u32 dev;

    if ((BPF_CORE_READ(bio, bi_opf) & REQ_OP_BITS_MASK) != REQ_OP_READ_VALUE)
        return 0;
    dev = bio_devt(bio);
    if (!bpf_map_lookup_elem(&swap_devs, &dev))
        return 0;
    return count_swapin();
}

BTF_RAW_TP(bio_queue, block_bio_queue, bio_queued((struct bio *)ctx[0]))

char LICENSE[] SEC("license") = "GPL";
