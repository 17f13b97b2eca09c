// vfsstat: counts of file system calls by kind: kprobes on the vfs_*
// functions (bcc's) where the kernel has kprobes, else the syscalls
// tracepoints that reach them.
// Per-CPU counters that only grow; user space reports the difference.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <pybcc/percpu_counters.h>

enum stat_types {
    S_READ = 1,
    S_WRITE,
    S_FSYNC,
    S_OPEN,
    S_CREATE,
    S_UNLINK,
    S_MKDIR,
    S_RMDIR,
    S_MAXSTAT
};

#define AT_REMOVEDIR 0x200
#define S_IFMT 00170000
#define S_IFREG 0100000

const volatile u32 targ_pid = 0;

DEFINE_PERCPU_COUNTERS(stats, S_MAXSTAT, u64);

static __always_inline int count(u32 key)
{
    if (targ_pid && (bpf_get_current_pid_tgid() >> 32) != targ_pid)
        return 0;
    counter_add(&stats, key, 1);
    return 0;
}

#define COUNT_ENTER(sc, key) \
    SEC("tracepoint/syscalls/sys_enter_" #sc) \
    int enter_##sc(struct trace_event_raw_sys_enter *ctx) { return count(key); }

COUNT_ENTER(read, S_READ)
COUNT_ENTER(pread64, S_READ)
COUNT_ENTER(write, S_WRITE)
COUNT_ENTER(pwrite64, S_WRITE)
COUNT_ENTER(fsync, S_FSYNC)
COUNT_ENTER(fdatasync, S_FSYNC)
COUNT_ENTER(mkdir, S_MKDIR)
COUNT_ENTER(mkdirat, S_MKDIR)
COUNT_ENTER(rmdir, S_RMDIR)
COUNT_ENTER(unlink, S_UNLINK)

/* unlinkat() is vfs_unlink or, with AT_REMOVEDIR, vfs_rmdir */
SEC("tracepoint/syscalls/sys_enter_unlinkat")
int enter_unlinkat(struct trace_event_raw_sys_enter *ctx)
{
    return count(ctx->args[2] & AT_REMOVEDIR ? S_RMDIR : S_UNLINK);
}

/* vfs_create: mknod of a regular file (open(O_CREAT) creates through the
 * file system's own ->create, not vfs_create, so bcc does not count it) */
static __always_inline int count_mknod(u64 mode)
{
    u32 type = mode & S_IFMT;
    return type == 0 || type == S_IFREG ? count(S_CREATE) : 0;
}

SEC("tracepoint/syscalls/sys_enter_mknod")
int enter_mknod(struct trace_event_raw_sys_enter *ctx) { return count_mknod(ctx->args[1]); }

SEC("tracepoint/syscalls/sys_enter_mknodat")
int enter_mknodat(struct trace_event_raw_sys_enter *ctx) { return count_mknod(ctx->args[2]); }

/* vfs_open runs once the path is found: count the opens that succeed */
#define COUNT_OPEN(sc) \
    SEC("tracepoint/syscalls/sys_exit_" #sc) \
    int exit_##sc(struct trace_event_raw_sys_exit *ctx) \
    { return ctx->ret >= 0 ? count(S_OPEN) : 0; }

COUNT_OPEN(open)
COUNT_OPEN(openat)
COUNT_OPEN(openat2)
COUNT_OPEN(creat)
COUNT_OPEN(open_by_handle_at)

/* bcc's source, where the kernel has kprobes: the vfs_* functions themselves */
#define COUNT_KPROBE(func, key) \
    SEC("kprobe/" #func) \
    int kprobe_##func(void *ctx) { return count(key); }

COUNT_KPROBE(vfs_read, S_READ)
COUNT_KPROBE(vfs_write, S_WRITE)
COUNT_KPROBE(vfs_fsync_range, S_FSYNC)
COUNT_KPROBE(vfs_open, S_OPEN)
COUNT_KPROBE(vfs_create, S_CREATE)
COUNT_KPROBE(vfs_unlink, S_UNLINK)
COUNT_KPROBE(vfs_mkdir, S_MKDIR)
COUNT_KPROBE(vfs_rmdir, S_RMDIR)

char LICENSE[] SEC("license") = "GPL";
