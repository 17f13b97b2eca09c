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

SEC("tracepoint/syscalls/sys_enter_write")
int write_enter(struct trace_event_raw_sys_enter *ctx)
{
    const char *buf = (const char *)ctx->args[1];
    u64 count = ctx->args[2];
    u32 size = datasize < MAX_DATASIZE ? datasize : MAX_DATASIZE, n;
    struct event *e;

    if (!is_target((long)ctx->args[0]))
        return 0;
    e = scratch(&event_scratch);
    if (!e)
        return 0;
    for (int i = 0; i < MAX_DATACOUNT && i < datacount; i++) {
        if (!count)
            break;
        n = count > size ? size : count;
        if (n > MAX_DATASIZE)
            break;
        if (bpf_probe_read_user(e->buf, n, buf))
            break;
        e->count = n;
        emit_event(ctx, e, sizeof(e->count) + n);
        count -= n;
        buf += n;
    }
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
