// ttysnoop: the output written to one tty or pts device. bcc probes
// tty_write (a kprobe); here the write syscall's tracepoint finds the file
// behind the fd (a CO-RE walk) and keeps writes to the device's inode.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <pybcc/tool.h>
#include <pybcc/files.h>

#define MAX_DATASIZE 8192
#define MAX_DATACOUNT 1024

const volatile u64 target_ino = 0;
const volatile u32 target_dev = 0;     // the device's file system (st_dev, kernel encoding)
const volatile u32 datasize = 256;
const volatile u32 datacount = 16;

struct event {
    u32 count;
    char buf[MAX_DATASIZE];
};
PYBCC_RECORD(event);

DEFINE_SCRATCH(struct event, event_scratch);

static __always_inline bool is_target(long fd)
{
    struct file *f = current_fd_file(fd);
    struct inode *inode;

    if (!f)
        return false;
    inode = BPF_CORE_READ(f, f_inode);
    return BPF_CORE_READ(inode, i_ino) == target_ino &&
           BPF_CORE_READ(inode, i_sb, s_dev) == target_dev;
}

/* the rest of one write() to the target, sent as events of up to datasize bytes */
struct chunks {
    void *ctx;
    struct event *e;
    const char *buf;
    u64 count;
};

/* one event of the write; 1 when the write is all sent (or unreadable) */
static long send_chunk(u64 i, struct chunks *c)
{
    u32 size = datasize < MAX_DATASIZE ? datasize : MAX_DATASIZE, n;

    if (!c->count || i >= datacount)
        return 1;
    n = c->count > size ? size : c->count;
    if (n > MAX_DATASIZE || bpf_probe_read_user(c->e->buf, n, c->buf))
        return 1;
    c->e->count = n;
    emit_event(c->ctx, c->e, sizeof(c->e->count) + n);
    c->count -= n;
    c->buf += n;
    return 0;
}

static __always_inline struct chunks *target_write(struct trace_event_raw_sys_enter *ctx,
                                                   struct chunks *c)
{
    if (!is_target((long)ctx->args[0]))
        return NULL;
    c->ctx = ctx;
    c->e = scratch(&event_scratch);
    c->buf = (const char *)ctx->args[1];
    c->count = ctx->args[2];
    return c->e ? c : NULL;
}

/* bpf_loop() (5.17+): the verifier checks send_chunk once, not once per
 * possible chunk (the unrolled loop took ~30 ms of kernel CPU to load) */
SEC("tracepoint/syscalls/sys_enter_write")
int write_enter(struct trace_event_raw_sys_enter *ctx)
{
    struct chunks c;

    if (target_write(ctx, &c))
        bpf_loop(MAX_DATACOUNT, send_chunk, &c, 0);
    return 0;
}

/* the same without bpf_loop(), for older kernels */
SEC("tracepoint/syscalls/sys_enter_write")
int write_enter_unrolled(struct trace_event_raw_sys_enter *ctx)
{
    struct chunks c;

    if (!target_write(ctx, &c))
        return 0;
    for (int i = 0; i < MAX_DATACOUNT; i++)
        if (send_chunk(i, &c))
            break;
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
