// fsslower: one file system's reads, writes, opens, fsyncs (and getattrs)
// slower than a threshold, one event each (see pybcc/fslatency.h for how
// operations are timed).
//
// Compiled twice: fsslower.bpf.c (every way in) and fsslower_sys.bpf.c
// (FS_SYSCALLS_ONLY: the syscall tracepoints only, for kernels without
// fentry and kprobes; see pybcc/fslatency.h).
#ifndef __PYBCC_FSSLOWER_H
#define __PYBCC_FSSLOWER_H
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <pybcc/tool.h>

#define FILE_NAME_LEN 64

struct event {
    u64 end_ns;
    u64 delta_us;
    s64 size;
    s64 offset;
    u32 pid;
    u32 op;
    char task[16];
    char file[FILE_NAME_LEN];
};
PYBCC_RECORD(event);

const volatile u64 min_ns = 0;
const volatile bool fsync_range_size = false;   /* libbpf-tools': fsync's size is its range */

struct fs_start;
#include <pybcc/fslatency.h>

static int fs_op_done(void *ctx, u32 op, struct fs_start *s, struct file *f,
                      u64 end_ns, s64 ret)
{
    u64 delta = end_ns - s->ts;
    struct dentry *dentry = f ? BPF_CORE_READ(f, f_path.dentry) : s->dentry;
    struct event e = {};

    if (min_ns && delta <= min_ns)
        return 0;
    e.end_ns = end_ns;
    e.delta_us = delta / 1000;
    e.size = op == F_FSYNC && fsync_range_size ? s->end - s->offset : ret;
    e.offset = s->offset;
    e.pid = bpf_get_current_pid_tgid() >> 32;
    e.op = op;
    bpf_get_current_comm(e.task, sizeof(e.task));
    if (dentry)
        bpf_probe_read_kernel_str(e.file, sizeof(e.file), BPF_CORE_READ(dentry, d_name.name));
    emit_event(ctx, &e, sizeof(e));
    return 0;
}

char LICENSE[] SEC("license") = "GPL";

#endif
