// opensnoop: trace open(), openat() and openat2() through the syscalls
// tracepoints. The enter side remembers the arguments per thread; the exit
// side reads the path and sends one event with the result.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <pybcc/tool.h>
#include <pybcc/callstash.h>
#include <pybcc/containers.h>

#define NAME_LEN 256
#define MAX_DEPTH 32          /* directory levels walked for --full-path */
#define DIR_BUF 4096          /* the directory components, leaf first, NUL separated */
#define AT_FDCWD -100

struct args_t {
    const char *fname;
    s64 dfd;
    s32 flags;
};

/* fd and err as bcc prints them (fd -1 and err = -ret on failure), so the
 * Python side shows every column straight from a field */
struct event {
    u64 ts_us;
    u32 pid;
    u32 tid;
    u32 uid;
    s32 fd;
    s32 err;
    u32 flags;
    u32 dir_size;             /* bytes used in dir (0: no directory part) */
    char comm[16];
    char name[NAME_LEN];
    char dir[DIR_BUF];
};

const volatile u32 targ_pid = 0;
const volatile u32 targ_tid = 0;
const volatile u32 targ_uid = (u32)-1;
const volatile s32 flags_mask = 0;        /* 0: no flag filter */
const volatile bool failed_only = false;
const volatile bool full_path = false;

HASH_MAP(start, u32, struct args_t, 10240);

DEFINE_SCRATCH(struct event, scratch_event);

static __always_inline int trace_enter(const char *fname, s64 dfd, s32 flags)
{
    u64 id = bpf_get_current_pid_tgid();
    u32 pid = id >> 32, tid = (u32)id;
    struct args_t args = {};

    if (targ_tid && tid != targ_tid)
        return 0;
    if (!targ_tid && targ_pid && pid != targ_pid)
        return 0;
    if (targ_uid != (u32)-1 && (u32)bpf_get_current_uid_gid() != targ_uid)
        return 0;
    if (flags_mask && !(flags & flags_mask))
        return 0;
    if (container_filtered())
        return 0;
    args.fname = fname;
    args.dfd = dfd;
    args.flags = flags;
    stash_put(&start, &args);
    return 0;
}

/* The directory a relative name starts from: dfd's, or the cwd. */
static __always_inline int start_dir(s64 dfd, struct path *out)
{
    struct task_struct *task = (void *)bpf_get_current_task();

    if (dfd == AT_FDCWD) {
        struct fs_struct *fs = BPF_CORE_READ(task, fs);
        return bpf_core_read(out, sizeof(*out), &fs->pwd);
    }
    struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
    if (dfd < 0 || dfd >= BPF_CORE_READ(fdt, max_fds))
        return -1;
    struct file **fds = BPF_CORE_READ(fdt, fd);
    struct file *f = NULL;
    bpf_probe_read_kernel(&f, sizeof(f), &fds[dfd]);
    if (!f)
        return -1;
    return bpf_core_read(out, sizeof(*out), &f->f_path);
}

/* Walk from the start directory up to the root, crossing mount points,
 * appending each component (leaf first) to e->dir. */
static __always_inline void fill_dir(struct event *e, s64 dfd)
{
    struct path p;
    struct dentry *d, *parent, *mnt_root;
    struct vfsmount *vfs;
    struct mount *mnt, *mnt_parent;
    u32 off = 0;
    int i;

    if (start_dir(dfd, &p))
        return;
    d = p.dentry;
    vfs = p.mnt;
    mnt = container_of(vfs, struct mount, mnt);
    for (i = 0; i < MAX_DEPTH * 2; i++) {
        mnt_root = BPF_CORE_READ(vfs, mnt_root);
        parent = BPF_CORE_READ(d, d_parent);
        if (d == mnt_root || d == parent) {
            mnt_parent = BPF_CORE_READ(mnt, mnt_parent);
            if (mnt_parent == mnt)
                break;                  /* the root of everything */
            d = BPF_CORE_READ(mnt, mnt_mountpoint);
            mnt = mnt_parent;
            vfs = &mnt->mnt;
            continue;
        }
        if (off > DIR_BUF - NAME_LEN)
            break;
        const unsigned char *dname = BPF_CORE_READ(d, d_name.name);
        int n = bpf_probe_read_kernel_str(&e->dir[off], NAME_LEN, dname);
        if (n <= 0)
            break;
        off += n;
        d = parent;
    }
    e->dir_size = off;
}

static __always_inline int trace_exit(void *ctx, long ret)
{
    u64 id = bpf_get_current_pid_tgid();
    u32 tid = (u32)id;
    struct args_t *ap = stash_get(&start);
    struct event *e;

    if (!ap)
        return 0;
    if (failed_only && ret >= 0)
        goto cleanup;
    e = scratch(&scratch_event);
    if (!e)
        goto cleanup;
    e->ts_us = bpf_ktime_get_ns() / 1000;
    e->pid = id >> 32;
    e->tid = tid;
    e->uid = (u32)bpf_get_current_uid_gid();
    e->fd = ret >= 0 ? ret : -1;
    e->err = ret >= 0 ? 0 : -ret;
    e->flags = ap->flags;
    e->dir_size = 0;
    bpf_get_current_comm(e->comm, sizeof(e->comm));
    if (bpf_probe_read_user_str(e->name, sizeof(e->name), ap->fname) < 0)
        e->name[0] = 0;
    if (full_path && e->name[0] != '/') {
        fill_dir(e, ap->dfd);
        u32 size = e->dir_size;
        if (size > DIR_BUF)
            size = DIR_BUF;
        emit_event(ctx, e, offsetof(struct event, dir) + size);
    } else {
        emit_event(ctx, e, offsetof(struct event, dir));
    }
cleanup:
    stash_drop(&start);
    return 0;
}

SEC("tracepoint/syscalls/sys_enter_open")
int open_enter(struct trace_event_raw_sys_enter *ctx)
{
    return trace_enter((const char *)ctx->args[0], AT_FDCWD, (s32)ctx->args[1]);
}

SEC("tracepoint/syscalls/sys_enter_openat")
int openat_enter(struct trace_event_raw_sys_enter *ctx)
{
    return trace_enter((const char *)ctx->args[1], (s32)ctx->args[0], (s32)ctx->args[2]);
}

SEC("tracepoint/syscalls/sys_enter_openat2")
int openat2_enter(struct trace_event_raw_sys_enter *ctx)
{
    struct open_how how = {};
    bpf_probe_read_user(&how, sizeof(how), (void *)ctx->args[2]);
    return trace_enter((const char *)ctx->args[1], (s32)ctx->args[0], (s32)how.flags);
}

SYSCALL_EXIT_PROGRAM(open_exit, open, trace_exit)
SYSCALL_EXIT_PROGRAM(openat_exit, openat, trace_exit)
SYSCALL_EXIT_PROGRAM(openat2_exit, openat2, trace_exit)

char LICENSE[] SEC("license") = "GPL";
