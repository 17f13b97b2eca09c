/* Timing one file system's reads, writes, opens, fsyncs and getattrs from
 * entry to return (fsdist, fsslower, and bcc's ext4dist, xfsslower, ...).
 *
 * Three ways in; the Python side (tools/lib/fsops.py) attaches one:
 *  - fentry/fexit on the file system's own functions (ext4_file_read_iter,
 *    ...), else kprobes/kretprobes on them: bcc's and libbpf-tools' data;
 *  - the sys_enter/sys_exit tracepoints (read/write/open/fsync/stat syscalls),
 *    with a CO-RE walk fd -> file -> inode -> super block that keeps the files of
 *    the wanted file system only: kernels without kprobes and fentry.
 * Files are matched by their super block's magic (ext2/3/4 share one, as
 * they share ext4's functions; nfs and nfs4 too), or, for a file system
 * pybcc has no table entry for, by its type's name.
 *
 * FS_SYSCALLS_ONLY (defined before including) leaves out the function
 * probes: fsops.py loads that smaller object (NAME_sys) where the kernel has
 * neither fentry nor kprobes, so a start reads and prepares 4 programs, not 23.
 *
 * The including tool defines, before including this header:
 *   static int fs_op_done(void *ctx, u32 op, struct fs_start *s, struct file *f,
 *                         u64 end_ns, s64 ret);
 * called once per timed operation of the wanted file system (f is NULL for a
 * getattr through the file system's function: s->dentry names its file). */
#ifndef __PYBCC_FSLATENCY_H
#define __PYBCC_FSLATENCY_H

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <pybcc/files.h>
#include <pybcc/idmap.h>
#include <pybcc/maps.h>

enum fs_op { F_READ, F_WRITE, F_OPEN, F_FSYNC, F_GETATTR, F_MAX_OP };

#define FS_NAME_LEN 16
#define S_IFMT 0170000
#define S_IFREG 0100000
#define AT_EMPTY_PATH 0x1000
#define WHOLE_FILE 0x7fffffffffffffffLL   /* fsync(2)'s range end: LLONG_MAX */

const volatile u32 targ_tgid = 0;
const volatile u64 fs_magic = 0;                 /* 0: match fs_name instead */
const volatile char fs_name[FS_NAME_LEN] = {};

struct fs_start {
    u64 ts;
    s64 offset;
    s64 end;            /* fsync's range end */
    struct file *file;  /* NULL for an open until it returns */
    struct dentry *dentry;  /* a getattr's (its function has a path, no file) */
};

HASH_MAP(fs_starts, u32, struct fs_start, 10240);     /* by thread id */

static int fs_op_done(void *ctx, u32 op, struct fs_start *s, struct file *f,
                      u64 end_ns, s64 ret);

/* A regular file of the wanted file system (as the file system's
 * file_operations see: not its directories, fifos or device nodes). */
static __always_inline bool fs_wanted(struct file *f)
{
    struct inode *inode = BPF_CORE_READ(f, f_inode);
    struct super_block *sb = BPF_CORE_READ(inode, i_sb);
    char name[FS_NAME_LEN];
    int i;

    /* the cheapest test first: the syscall path asks this of every fd read */
    if (!sb)
        return false;
    if (fs_magic) {
        if (BPF_CORE_READ(sb, s_magic) != fs_magic)
            return false;
    } else {
        if (bpf_probe_read_kernel_str(name, sizeof(name), BPF_CORE_READ(sb, s_type, name)) <= 0)
            return false;
        for (i = 0; i < FS_NAME_LEN; i++) {
            if (name[i] != fs_name[i])
                return false;
            if (!name[i])
                break;
        }
    }
    return (BPF_CORE_READ(inode, i_mode) & S_IFMT) == S_IFREG;
}

static __always_inline bool fs_traced_task(void)
{
    return !targ_tgid || (bpf_get_current_pid_tgid() >> 32) == targ_tgid;
}

/* Note the start of an operation on file f (NULL: an open, whose file
 * comes at its return). */
static __always_inline int fs_start(struct file *f, s64 offset, s64 end)
{
    u32 tid = bpf_get_current_pid_tgid();
    struct fs_start s = {};

    s.ts = bpf_ktime_get_ns();
    s.offset = offset;
    s.end = end;
    s.file = f;
    bpf_map_update_elem(&fs_starts, &tid, &s, BPF_ANY);
    return 0;
}

/* A file system function starts on file f (NULL: a getattr). */
static __always_inline int fs_enter(struct file *f, s64 offset, s64 end)
{
    if (!fs_traced_task() || (f && !fs_wanted(f)))
        return 0;
    return fs_start(f, offset, end);
}

/* An operation returns ret; opened is the file an open made (else NULL). */
static __always_inline int fs_exit(void *ctx, u32 op, s64 ret, struct file *opened)
{
    u32 tid = bpf_get_current_pid_tgid();
    struct fs_start *s = bpf_map_lookup_elem(&fs_starts, &tid);
    struct file *f;
    u64 end_ns;

    if (!s)
        return 0;       /* started before tracing, or not the wanted file system */
    end_ns = bpf_ktime_get_ns();
    f = s->file ? s->file : opened;
    if (op == F_OPEN && !s->file && (!f || !fs_wanted(f)))
        goto out;
    /* only a getattr through a kprobe/fentry has no file (an entry left from
     * before the exits were attached has none either: dropped) */
    if (!f && op != F_GETATTR)
        goto out;
    if ((s64)(end_ns - s->ts) >= 0)
        fs_op_done(ctx, op, s, f, end_ns, ret);
out:
    bpf_map_delete_elem(&fs_starts, &tid);
    return 0;
}

/* ---- the syscall tracepoints ----
 * raw_syscalls sys_enter/sys_exit, told by the syscall number (the Python
 * side fills sc_how/sc_op for this architecture's numbers) what a syscall
 * is: two tracepoints, where one per syscall (~20 of them) would each cost a
 * grace period when detached (seconds at exit). Raw tracepoints where the
 * Python side knows the architecture's pt_regs (x86, arm64): they cost each
 * syscall less than the classic ones, which build a record first. */

enum sc_how {
    SC_NONE,
    SC_FD,          /* read, write, readv, writev, fstat: the fd is the first argument */
    SC_FD_POS,      /* pread64, preadv, preadv2 and the write twins: position 4th (-1: the file's) */
    SC_OPEN,        /* open, openat, openat2, creat: the file comes with the result */
    SC_FSYNC,       /* fsync, fdatasync: the whole file */
    SC_FSTATAT,     /* newfstatat(dfd, "", buf, AT_EMPTY_PATH) */
    SC_STATX,       /* statx(dfd, "", AT_EMPTY_PATH, ...) */
};

#define SC_MAX 512
const volatile u8 sc_how[SC_MAX] = {};
const volatile u8 sc_op[SC_MAX] = {};

/* x86's 32-bit tasks number their syscalls differently: not traced */
struct thread_info___x86 {
    u32 status;
} __attribute__((preserve_access_index));
#define TS_COMPAT 0x0002

static __always_inline bool compat_task(void)
{
    struct task_struct *t = (void *)bpf_get_current_task();
    struct thread_info___x86 *ti = (void *)&t->thread_info;

    if (bpf_core_field_exists(ti->status))
        return BPF_CORE_READ(ti, status) & TS_COMPAT;
    return false;
}

static __always_inline s64 file_pos(struct file *f)
{
    return BPF_CORE_READ(f, f_pos);
}

/* fstatat/statx of an fd's own file (AT_EMPTY_PATH and ""): a getattr of an
 * open file; stat of a path is not followed here */
static __always_inline bool stat_of_fd(const char *path, long flags)
{
    char first = 0;

    if (!(flags & AT_EMPTY_PATH))
        return false;
    if (path)
        bpf_probe_read_user(&first, 1, path);
    return !first;
}

/* Argument i of the syscall: copied from the classic tracepoint's record
 * (args), or read from the raw tracepoint's pt_regs (args is NULL). */
static __always_inline long sc_arg(const long *args, struct pt_regs *regs, int i)
{
    if (args)
        return args[i];
    switch (i) {
    case 0: return PT_REGS_PARM1_CORE_SYSCALL(regs);
    case 1: return PT_REGS_PARM2_CORE_SYSCALL(regs);
    case 2: return PT_REGS_PARM3_CORE_SYSCALL(regs);
    default: return PT_REGS_PARM4_CORE_SYSCALL(regs);
    }
}

/* Each step below is written once, not once per kind of syscall: inlined
 * per case, the fd walk and the exit's work made programs of ~500
 * instructions each, and every instruction costs each start (the loader's
 * linking, the verifier). */
static __always_inline int on_sys_enter(long nr, const long *args, struct pt_regs *regs)
{
    struct file *f;
    s64 pos = 0, end = 0;
    u8 how;

    if (nr < 0 || nr >= SC_MAX)
        return 0;
    how = sc_how[nr];
    if (how == SC_NONE || !fs_traced_task())
        return 0;
    if (how == SC_OPEN)
        return compat_task() ? 0 : fs_start(NULL, 0, 0);
    if (how == SC_FSTATAT || how == SC_STATX) {
        if (!stat_of_fd((const char *)sc_arg(args, regs, 1),
                        sc_arg(args, regs, how == SC_FSTATAT ? 3 : 2)))
            return 0;
    } else if (how == SC_FSYNC) {
        end = WHOLE_FILE;
    } else if (how == SC_FD_POS) {
        pos = sc_arg(args, regs, 3);     /* -1: the file's position */
    } else {
        pos = -1;
    }
    f = current_fd_file(sc_arg(args, regs, 0));
    /* compat last: it is rare, and every fd of every task gets here */
    if (!f || !fs_wanted(f) || compat_task())
        return 0;
    return fs_start(f, pos == -1 ? file_pos(f) : pos, end);
}

static __always_inline int on_sys_exit(void *ctx, long nr, long ret)
{
    struct file *opened = NULL;
    u32 op;

    if (nr < 0 || nr >= SC_MAX || sc_how[nr] == SC_NONE)
        return 0;
    op = sc_op[nr];
    if (sc_how[nr] == SC_OPEN) {
        /* the result, as the file system's open returns it: 0 or an error */
        op = F_OPEN;
        if (ret >= 0) {
            opened = current_fd_file(ret);
            ret = 0;
        }
    }
    return fs_exit(ctx, op, ret, opened);
}

SEC("tracepoint/raw_syscalls/sys_enter")
int fs_sys_enter(struct trace_event_raw_sys_enter *ctx)
{
    long args[4] = {ctx->args[0], ctx->args[1], ctx->args[2], ctx->args[3]};

    return on_sys_enter(ctx->id, args, NULL);
}

SEC("tracepoint/raw_syscalls/sys_exit")
int fs_sys_exit(struct trace_event_raw_sys_exit *ctx)
{
    return on_sys_exit(ctx, ctx->id, ctx->ret);
}

/* sys_enter(struct pt_regs *regs, long id), sys_exit(struct pt_regs *regs, long ret) */
SEC("raw_tp/sys_enter")
int fs_sys_enter_raw(u64 *ctx)
{
    return on_sys_enter(ctx[1], NULL, (struct pt_regs *)ctx[0]);
}

SEC("raw_tp/sys_exit")
int fs_sys_exit_raw(u64 *ctx)
{
    struct pt_regs *regs = (struct pt_regs *)ctx[0];
    long nr = -1;

#if defined(__TARGET_ARCH_x86)
    nr = BPF_CORE_READ(regs, orig_ax);
#elif defined(__TARGET_ARCH_arm64)
    nr = BPF_CORE_READ(regs, syscallno);
#endif
    return on_sys_exit(ctx, nr, ctx[1]);
}

#ifndef FS_SYSCALLS_ONLY    /* NAME_sys.bpf.o: the syscall programs only */

/* ---- kprobes on the file system's functions (target given at attach) ---- */

/* read_iter/write_iter(struct kiocb *, struct iov_iter *) */
SEC("kprobe/fs_rw")
int BPF_KPROBE(kp_rw, struct kiocb *iocb)
{
    return fs_enter(BPF_CORE_READ(iocb, ki_filp), BPF_CORE_READ(iocb, ki_pos), 0);
}

/* open(struct inode *, struct file *) */
SEC("kprobe/fs_open")
int BPF_KPROBE(kp_open, struct inode *inode, struct file *file)
{
    return fs_enter(file, 0, 0);
}

/* fsync(struct file *, loff_t start, loff_t end, int datasync) */
SEC("kprobe/fs_fsync")
int BPF_KPROBE(kp_fsync, struct file *file, loff_t start, loff_t end)
{
    return fs_enter(file, start, end);
}

/* getattr: the functions are the file system's own; no file is at hand, only
 * a path: getattr(path, ...) before 5.12, then (user_namespace or mnt_idmap,
 * path, ...): see pybcc/idmap.h. */
static __always_inline int fs_enter_getattr(u64 arg0, u64 arg1)
{
    u32 tid = bpf_get_current_pid_tgid();
    struct path *path;
    struct fs_start *s;

    /* read both from ctx first: a load through a ctx pointer picked by the
     * condition is refused ("dereference of modified ctx ptr") */
    barrier_var(arg0);
    barrier_var(arg1);
    path = (struct path *)(vfs_takes_idmap() ? arg1 : arg0);
    if (!fs_traced_task())
        return 0;
    fs_start(NULL, 0, 0);
    s = bpf_map_lookup_elem(&fs_starts, &tid);
    if (s)
        s->dentry = BPF_CORE_READ(path, dentry);
    return 0;
}

SEC("kprobe/fs_getattr")
int BPF_KPROBE(kp_getattr, u64 arg0, u64 arg1)
{
    return fs_enter_getattr(arg0, arg1);
}

SEC("kretprobe/fs_read")
int BPF_KRETPROBE(kret_read, long ret) { return fs_exit(ctx, F_READ, ret, NULL); }

SEC("kretprobe/fs_write")
int BPF_KRETPROBE(kret_write, long ret) { return fs_exit(ctx, F_WRITE, ret, NULL); }

SEC("kretprobe/fs_open")
int BPF_KRETPROBE(kret_open, int ret) { return fs_exit(ctx, F_OPEN, ret, NULL); }

SEC("kretprobe/fs_fsync")
int BPF_KRETPROBE(kret_fsync, int ret) { return fs_exit(ctx, F_FSYNC, ret, NULL); }

SEC("kretprobe/fs_getattr")
int BPF_KRETPROBE(kret_getattr, int ret) { return fs_exit(ctx, F_GETATTR, ret, NULL); }

/* ---- fentry/fexit: one program per function (the target is fixed at load) ---- */

/* read_iter/write_iter(struct kiocb *, struct iov_iter *) */
#define FS_FENTRY_RW(name, op)                                                  \
    SEC("fentry/fs_" #name)                                                     \
    int BPF_PROG(fe_##name, struct kiocb *iocb)                                 \
    {                                                                           \
        return fs_enter(iocb->ki_filp, iocb->ki_pos, 0);                        \
    }                                                                           \
    SEC("fexit/fs_" #name)                                                      \
    int BPF_PROG(fx_##name, struct kiocb *iocb, struct iov_iter *iter, long ret) \
    {                                                                           \
        return fs_exit(ctx, op, ret, NULL);                                     \
    }

FS_FENTRY_RW(read, F_READ)
FS_FENTRY_RW(write, F_WRITE)

SEC("fentry/fs_open")
int BPF_PROG(fe_open, struct inode *inode, struct file *file)
{
    return fs_enter(file, 0, 0);
}

SEC("fexit/fs_open")
int BPF_PROG(fx_open, struct inode *inode, struct file *file, int ret)
{
    return fs_exit(ctx, F_OPEN, ret, NULL);
}

SEC("fentry/fs_fsync")
int BPF_PROG(fe_fsync, struct file *file, loff_t start, loff_t end)
{
    return fs_enter(file, start, end);
}

SEC("fexit/fs_fsync")
int BPF_PROG(fx_fsync, struct file *file, loff_t start, loff_t end, int datasync, int ret)
{
    return fs_exit(ctx, F_FSYNC, ret, NULL);
}

SEC("fentry/fs_getattr")
int BPF_PROG(fe_getattr, u64 arg0, u64 arg1)
{
    return fs_enter_getattr(arg0, arg1);
}

/* the argument count differs between kernels: the result is not read */
SEC("fexit/fs_getattr")
int BPF_PROG(fx_getattr)
{
    return fs_exit(ctx, F_GETATTR, 0, NULL);
}

#endif /* FS_SYSCALLS_ONLY */

#endif
