// fsdist: latency of one file system's reads, writes, opens, fsyncs and
// getattrs as log2 histograms, one per operation (see pybcc/fslatency.h for
// how operations are timed).
//
// Compiled twice: fsdist.bpf.c (every way in) and fsdist_sys.bpf.c
// (FS_SYSCALLS_ONLY: the syscall tracepoints only, for kernels without
// fentry and kprobes; see pybcc/fslatency.h).
#ifndef __PYBCC_FSDIST_H
#define __PYBCC_FSDIST_H
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <pybcc/tool.h>
#include <pybcc/counts.h>

struct fs_start;
struct hist_key {
    u32 op;
    u32 pad;
    u64 slot;
};

const volatile bool targ_ms = false;

HASH_MAP(hists, struct hist_key, u64, 1024);

#include <pybcc/fslatency.h>

static int fs_op_done(void *ctx, u32 op, struct fs_start *s, struct file *f,
                      u64 end_ns, s64 ret)
{
    struct hist_key key = {.op = op};

    key.slot = log2_slot((end_ns - s->ts) / (targ_ms ? 1000000 : 1000));
    map_add(&hists, &key, 1);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";

#endif
