/* The read and write syscalls (read, pread64, readv, preadv, preadv2 and the
 * write twins) as one pair of events: the fd and start time saved at the
 * syscall's entry, and handed with the result to the tool at its exit. For
 * tools that bcc builds on kprobes of vfs_read/vfs_write (filetop,
 * fileslower, dirtop); here the file is found from the fd (fdfile.h).
 *
 * The tool defines, after including this header:
 *   static __always_inline bool rw_wanted(void);   // filters at entry (pid...)
 *   static __always_inline int rw_done(void *ctx, const struct rw_call *c, long ret);
 * and attaches the programs named in pybcc/tools/lib/rwcalls.py.
 */
#ifndef __PYBCC_RWCALLS_H
#define __PYBCC_RWCALLS_H

#include <bpf/bpf_helpers.h>

struct rw_call {
    u64 ts;         /* bpf_ktime_get_ns() at entry */
    s32 fd;
    u32 write;      /* 1 for the write syscalls */
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 10240);
    __type(key, u32);               /* thread id */
    __type(value, struct rw_call);
} rw_calls SEC(".maps");

static __always_inline bool rw_wanted(void);
static __always_inline int rw_done(void *ctx, const struct rw_call *c, long ret);

static __always_inline int rw_enter(long fd, u32 write)
{
    u32 tid = (u32)bpf_get_current_pid_tgid();
    struct rw_call c = {.fd = fd, .write = write};

    if (fd < 0 || !rw_wanted())
        return 0;
    c.ts = bpf_ktime_get_ns();
    bpf_map_update_elem(&rw_calls, &tid, &c, BPF_ANY);
    return 0;
}

static __always_inline int rw_exit(void *ctx, long ret)
{
    u32 tid = (u32)bpf_get_current_pid_tgid();
    struct rw_call *p = bpf_map_lookup_elem(&rw_calls, &tid);
    struct rw_call c;

    if (!p)
        return 0;
    c = *p;
    bpf_map_delete_elem(&rw_calls, &tid);
    return rw_done(ctx, &c, ret);
}

#define RW_SYSCALL(name, write)                                                \
SEC("tracepoint/syscalls/sys_enter_" #name)                                    \
int rw_enter_##name(struct trace_event_raw_sys_enter *ctx)                     \
{ return rw_enter(ctx->args[0], write); }                                      \
SEC("tracepoint/syscalls/sys_exit_" #name)                                     \
int rw_exit_##name(struct trace_event_raw_sys_exit *ctx)                       \
{ return rw_exit(ctx, ctx->ret); }

RW_SYSCALL(read, 0)
RW_SYSCALL(pread64, 0)
RW_SYSCALL(readv, 0)
RW_SYSCALL(preadv, 0)
RW_SYSCALL(preadv2, 0)
RW_SYSCALL(write, 1)
RW_SYSCALL(pwrite64, 1)
RW_SYSCALL(writev, 1)
RW_SYSCALL(pwritev, 1)
RW_SYSCALL(pwritev2, 1)

#endif
