/* Whether the VFS functions take the mount's idmapping first: 5.12 added a
 * user_namespace argument (mnt_userns), 6.3 made it a mnt_idmap, in front of
 * vfs_unlink's, vfs_rmdir's and the file systems' getattr's arguments.
 * (struct renamedata is no sign: Debian's 5.10 has it, with getattr(path, ...).) */
#ifndef PYBCC_IDMAP_H
#define PYBCC_IDMAP_H

#include <bpf/bpf_core_read.h>

struct vfsmount___idmapped {
    void *mnt_userns;
    void *mnt_idmap;
} __attribute__((preserve_access_index));

static __always_inline bool vfs_takes_idmap(void)
{
    return bpf_core_field_exists(struct vfsmount___idmapped, mnt_userns) ||
           bpf_core_field_exists(struct vfsmount___idmapped, mnt_idmap);
}

#endif
