// fileslower: synchronous file reads and writes slower than a threshold.
// The events come from rwcalls.h: bcc's kprobe/kretprobe pairs on
// vfs_read/vfs_write where the kernel has kprobes, else the read/write
// syscalls' entry and exit, the file found from the fd (fdfile.h).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <pybcc/tool.h>
#define RW_AT_RETURN
#include <pybcc/rwcalls.h>

struct event {
    u32 mode;           /* 0 read, 1 write */
    u32 pid;            /* thread id, bcc's TID */
    u64 sz;
    u64 delta_us;
    u32 name_len;
    char name[FDFILE_NAME_LEN];
    char comm[16];
};
PYBCC_RECORD(event);

const volatile bool all_files = false;
const volatile u64 min_us = 10000;

static __always_inline int rw_done(void *ctx, const struct rw_call *c, long bytes)
{
    u64 delta_us = (bpf_ktime_get_ns() - c->ts) / 1000;
    struct fdfile_info fi = {};
    struct event e = {};
    struct file *f = c->file;

    if (delta_us < min_us)
        return 0;
    /* synchronous I/O only, as bcc: the file has ->read_iter/->write_iter */
    if (c->write ? !BPF_CORE_READ(f, f_op, write_iter) : !BPF_CORE_READ(f, f_op, read_iter))
        return 0;
    fdfile_read(f, &fi);
    if (fi.name_len == 0 || (!all_files && (fi.mode & FDFILE_S_IFMT) != FDFILE_S_IFREG))
        return 0;
    e.mode = c->write;
    e.pid = (u32)bpf_get_current_pid_tgid();
    e.sz = bytes < 0 ? 0 : bytes;
    e.delta_us = delta_us;
    e.name_len = fi.name_len;
    __builtin_memcpy(e.name, fi.name, sizeof(e.name));
    bpf_get_current_comm(e.comm, sizeof(e.comm));
    emit_event(ctx, &e, sizeof(e));
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
