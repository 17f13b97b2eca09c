/* What a syscall's fd refers to, by a CO-RE walk from the current task:
 * task → files → fdtable → file → dentry/inode/super block. For tools that
 * see an fd in a syscall tracepoint and need the file behind it, where bcc
 * reads the struct file from a vfs_* kprobe's argument (filetop,
 * fileslower, dirtop, fsdist/fsslower).
 *
 *   struct file *f = current_fd_file(fd);      // NULL if fd is not open
 *   struct fdfile_info info;
 *   fdfile_read(f, &info);                     // name, ino, dev, mode, magic
 *   fdfile_fstype(f, buf, sizeof(buf));        // "ext4", "xfs", "tmpfs"...
 */
#ifndef __PYBCC_FDFILE_H
#define __PYBCC_FDFILE_H

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <pybcc/files.h>        /* current_fd_file(fd) */

/* bcc shows 32 bytes of a name (DNAME_INLINE_LEN); 40 keeps a 32-byte name
 * whole with its NUL, and tells a longer one by name_len */
#define FDFILE_NAME_LEN 40

/* i_mode's file types (S_IFMT bits), as <sys/stat.h> gives them */
#define FDFILE_S_IFMT  0170000
#define FDFILE_S_IFREG 0100000
#define FDFILE_S_IFSOCK 0140000

struct fdfile_info {
    u64 ino;            /* inode number */
    u64 magic;          /* super block's s_magic: the file system type */
    u32 dev;            /* super block's s_dev (kernel dev_t: major << 20 | minor) */
    u32 rdev;           /* inode's i_rdev (device files) */
    u32 name_len;       /* the name's full length (name may be cut short) */
    u16 mode;           /* inode's i_mode (type and permission bits) */
    char name[FDFILE_NAME_LEN];   /* the dentry's name, the last path component */
};

static __always_inline struct dentry *fdfile_dentry(struct file *f)
{
    return BPF_CORE_READ(f, f_path.dentry);
}

/* Fill ``info`` from file ``f`` (not NULL). */
static __always_inline void fdfile_read(struct file *f, struct fdfile_info *info)
{
    struct inode *inode = BPF_CORE_READ(f, f_inode);
    struct super_block *sb = BPF_CORE_READ(inode, i_sb);

    info->ino = BPF_CORE_READ(inode, i_ino);
    info->mode = BPF_CORE_READ(inode, i_mode);
    info->dev = BPF_CORE_READ(sb, s_dev);
    info->magic = BPF_CORE_READ(sb, s_magic);
    info->rdev = BPF_CORE_READ(inode, i_rdev);
    info->name_len = BPF_CORE_READ(f, f_path.dentry, d_name.len);
    bpf_probe_read_kernel_str(info->name, sizeof(info->name),
                              BPF_CORE_READ(f, f_path.dentry, d_name.name));
}

/* The name of the file system type of ``f`` ("ext4", "tmpfs", ...) into buf. */
static __always_inline int fdfile_fstype(struct file *f, char *buf, u32 size)
{
    return bpf_probe_read_kernel_str(buf, size,
                                     BPF_CORE_READ(f, f_inode, i_sb, s_type, name));
}

/* The inode number of a dentry's parent directory (0 at a root). */
static __always_inline u64 dentry_parent_ino(struct dentry *d)
{
    struct dentry *parent = BPF_CORE_READ(d, d_parent);

    if (!parent || parent == d)
        return 0;
    return BPF_CORE_READ(parent, d_inode, i_ino);
}

#endif
