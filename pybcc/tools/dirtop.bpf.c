// dirtop: reads and writes counted under the directories given with -d,
// by walking up each file's dentry ancestors. The events come from
// rwcalls.h: bcc's kprobes on vfs_read/vfs_write where the kernel has
// kprobes, else the read/write syscalls with the file found from the fd.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <pybcc/maps.h>
#include <bpf/bpf_core_read.h>
#include <pybcc/rwcalls.h>

#define MAX_DEPTH 50        /* bcc's */

struct info_t {
    u64 inode_id;
};


/* the inode numbers of the directories to watch (filled by user space) */
HASH_MAP(dirs, u64, u8, 1024);

HASH_MAP(counts, struct info_t, struct rw_counts, 1024);

static __always_inline int rw_done(void *ctx, const struct rw_call *c, long bytes)
{
    struct dentry *d = fdfile_dentry(c->file), *parent;
    struct info_t info = {};
    u64 ino;
    int i;

    /* as bcc: the highest watched ancestor within the file's file system */
    for (i = 0; i < MAX_DEPTH; i++) {
        parent = BPF_CORE_READ(d, d_parent);
        if (!parent || parent == d)
            break;
        d = parent;
        ino = BPF_CORE_READ(d, d_inode, i_ino);
        if (bpf_map_lookup_elem(&dirs, &ino))
            info.inode_id = ino;
    }
    if (!info.inode_id)
        return 0;
    rw_count(&counts, &info, c, bytes);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
