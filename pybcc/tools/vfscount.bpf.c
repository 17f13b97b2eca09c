// vfscount without kprobes: every syscall counted by number (raw_syscalls:
// sys_enter); user space maps each syscall to the vfs_* function it reaches.
// A syscall that reaches one of two functions, by its arguments, counts at
// nr + VARIANT for the second: unlinkat(AT_REMOVEDIR) is vfs_rmdir, and
// mknod/mknodat of a regular file is vfs_create. With kprobes, vfscount
// uses funccount's object on vfs_* (as bcc does).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <pybcc/percpu_counters.h>

#define NR_SLOTS 1024
#define VARIANT 512
#define AT_REMOVEDIR 0x200
#define S_IFMT 00170000
#define S_IFREG 0100000

/* the x86_64/arm64 numbers of the syscalls with a variant (set by user space) */
const volatile s64 nr_unlinkat = -1;
const volatile s64 nr_mknod = -1;
const volatile s64 nr_mknodat = -1;

DEFINE_PERCPU_COUNTERS(counts, NR_SLOTS, u64);

static __always_inline bool is_regular(u64 mode)
{
    return (mode & S_IFMT) == 0 || (mode & S_IFMT) == S_IFREG;
}

SEC("tracepoint/raw_syscalls/sys_enter")
int sys_enter(struct trace_event_raw_sys_enter *ctx)
{
    s64 nr = ctx->id;
    u32 slot;

    if (nr < 0 || nr >= VARIANT)
        return 0;
    slot = nr;
    if ((nr == nr_unlinkat && (ctx->args[2] & AT_REMOVEDIR)) ||
        (nr == nr_mknod && is_regular(ctx->args[1])) ||
        (nr == nr_mknodat && is_regular(ctx->args[2])))
        slot += VARIANT;
    counter_add(&counts, slot, 1);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
