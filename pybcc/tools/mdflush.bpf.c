// mdflush: one event per flush request to an md (software RAID) device.
// Where kprobes exist, md_flush_request() as bcc; elsewhere the
// block:block_bio_queue tracepoint, for bios with REQ_PREFLUSH queued to a
// disk named md*: the flushes md_flush_request() receives, seen as they
// are queued.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <pybcc/tool.h>
#include <pybcc/blockio.h>

struct event {
    u32 pid;
    char comm[16];
    char disk[DISK_NAME_LEN];
};
PYBCC_RECORD(event);

static __always_inline int emit_flush(void *ctx, struct gendisk *disk)
{
    struct event e = {};

    e.pid = bpf_get_current_pid_tgid() >> 32;
    bpf_get_current_comm(&e.comm, sizeof(e.comm));
    BPF_CORE_READ_STR_INTO(&e.disk, disk, disk_name);
    emit_event(ctx, &e, sizeof(e));
    return 0;
}

SEC("kprobe/md_flush_request")
int BPF_KPROBE(md_flush_request, void *mddev, struct bio *bio)
{
    return emit_flush(ctx, bio_disk(bio));
}

static __always_inline int bio_queued(void *ctx, struct bio *bio)
{
    u32 preflush = bpf_core_enum_value(enum req_flag_bits, __REQ_PREFLUSH);
    struct gendisk *disk;
    char name[2];

    if (!(BPF_CORE_READ(bio, bi_opf) & (1U << preflush)))
        return 0;
    disk = bio_disk(bio);
    if (!disk || bpf_probe_read_kernel(name, sizeof(name), &disk->disk_name))
        return 0;
    if (name[0] != 'm' || name[1] != 'd')
        return 0;
    return emit_flush(ctx, disk);
}

BTF_RAW_TP(bio_queue, block_bio_queue, bio_queued(ctx, (struct bio *)ctx[0]))

char LICENSE[] SEC("license") = "GPL";
