// fentry on a function of the xfs module, with a CO-RE read of a type that
// only the module's BTF has (struct xfs_mount; declared here as a CO-RE
// flavour, since a kernel with xfs built in has it in vmlinux.h): both need
// module BTF where xfs is a module.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

struct xfs_mount___local {
    struct super_block *m_super;
} __attribute__((preserve_access_index));

u64 calls = 0;
u64 matches = 0;

SEC("fentry/xfs_fs_statfs")
int BPF_PROG(statfs_entry, struct dentry *dentry)
{
    struct super_block *sb = BPF_CORE_READ(dentry, d_sb);
    struct xfs_mount___local *mp = BPF_CORE_READ(sb, s_fs_info);

    __sync_fetch_and_add(&calls, 1);
    if (BPF_CORE_READ(mp, m_super) == sb)     // the right offset in xfs_mount
        __sync_fetch_and_add(&matches, 1);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
