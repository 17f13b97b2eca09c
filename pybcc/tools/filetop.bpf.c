// filetop: reads and writes by thread and file, counted in the kernel.
// The events come from rwcalls.h: bcc's kprobes on vfs_read/vfs_write
// (requested sizes) where the kernel has kprobes, else the read/write
// syscalls (bytes transferred), the file found from the fd (fdfile.h).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <pybcc/maps.h>
#include <bpf/bpf_core_read.h>
#include <pybcc/rwcalls.h>

struct info_t {
    u64 inode;
    u32 dev;
    u32 rdev;
    u32 pid;            /* thread id, bcc's TID column */
    u32 name_len;
    char comm[16];
    char name[FDFILE_NAME_LEN];
    char type;          /* R regular, S socket, O other */
};

const volatile bool all_files = false;
const volatile u64 dir_ino = 0;     /* -d: only files in this directory */

HASH_MAP(counts, struct info_t, struct rw_counts, 10240);

static __always_inline int rw_done(void *ctx, const struct rw_call *c, long bytes)
{
    struct fdfile_info fi = {};
    struct info_t info = {};
    struct file *f = c->file;
    u16 fmt;

    fdfile_read(f, &fi);
    fmt = fi.mode & FDFILE_S_IFMT;
    if (fi.name_len == 0 || (!all_files && fmt != FDFILE_S_IFREG))
        return 0;
    if (dir_ino && dentry_parent_ino(fdfile_dentry(f)) != dir_ino)
        return 0;
    info.inode = fi.ino;
    info.dev = fi.dev;
    info.rdev = fi.rdev;
    info.pid = (u32)bpf_get_current_pid_tgid();
    info.name_len = fi.name_len;
    __builtin_memcpy(info.name, fi.name, sizeof(info.name));
    bpf_get_current_comm(info.comm, sizeof(info.comm));
    info.type = fmt == FDFILE_S_IFREG ? 'R' : fmt == FDFILE_S_IFSOCK ? 'S' : 'O';
    rw_count(&counts, &info, c, bytes);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
