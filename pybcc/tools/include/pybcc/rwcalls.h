/* File reads and writes as one event per call, for tools that bcc builds on
 * kprobes of vfs_read/vfs_write (filetop, fileslower, dirtop). Two sources:
 *
 * - the read/write syscalls (read, pread64, readv, preadv, preadv2 and the
 *   write twins): the fd and start time saved at the syscall's entry, the
 *   file found from the fd (fdfile.h) at its exit, with the result (the
 *   syscall's first argument is its fd, the same for all ten);
 * - kprobes on vfs_read/vfs_write (bcc's), where the kernel has kprobes:
 *   the file and the requested size from the function's arguments, at its
 *   entry, or at its return with RW_AT_RETURN defined (for a latency).
 *
 * The tool defines, after including this header,
 *   static __always_inline int rw_done(void *ctx, const struct rw_call *c, long bytes);
 * sets targ_tgid (-p) and attaches through pybcc/tools/lib/rwcalls.py.
 * ``bytes`` is the syscall's result (bytes transferred, or -errno) or
 * vfs_*'s requested size.
 */
#ifndef __PYBCC_RWCALLS_H
#define __PYBCC_RWCALLS_H

#include <bpf/bpf_helpers.h>
#include <pybcc/maps.h>
#include <bpf/bpf_tracing.h>
#include <pybcc/fdfile.h>

struct rw_call {
    struct file *file;
    u64 ts;         /* bpf_ktime_get_ns() at entry */
    u64 size;       /* vfs_*'s requested size (kprobes) */
    s32 fd;         /* the syscall's fd (tracepoints) */
    u32 write;      /* 1 for writes */
};

HASH_MAP(rw_calls, u32, struct rw_call, 10240);  /* thread id */

const volatile u32 targ_tgid = 0;    /* only this process (-p) */

static __always_inline bool rw_wanted(void)
{
    return !targ_tgid || (bpf_get_current_pid_tgid() >> 32) == targ_tgid;
}

static __always_inline int rw_done(void *ctx, const struct rw_call *c, long bytes);

static __always_inline int rw_save(struct rw_call *c)
{
    u32 tid = (u32)bpf_get_current_pid_tgid();

    if (!rw_wanted())
        return 0;
    c->ts = bpf_ktime_get_ns();
    bpf_map_update_elem(&rw_calls, &tid, c, BPF_ANY);
    return 0;
}

/* The call saved at entry, removed from the map; false if none. */
static __always_inline bool rw_take(struct rw_call *c)
{
    u32 tid = (u32)bpf_get_current_pid_tgid();
    struct rw_call *p = bpf_map_lookup_elem(&rw_calls, &tid);

    if (!p)
        return false;
    *c = *p;
    bpf_map_delete_elem(&rw_calls, &tid);
    return true;
}

static __always_inline int rw_enter(long fd, u32 write)
{
    struct rw_call c = {.fd = fd, .write = write};

    return fd < 0 ? 0 : rw_save(&c);
}

static __always_inline int rw_exit(void *ctx, long ret)
{
    struct rw_call c;

    if (!rw_take(&c))
        return 0;
    c.file = current_fd_file(c.fd);
    return c.file ? rw_done(ctx, &c, ret) : 0;
}

/* One program per side serves all five read (write) syscalls, and one exit
 * program all ten: their tracepoints lay out args[] and ret alike, and
 * rwcalls.py attaches each program to every syscall's tracepoint. Three
 * programs to verify at start, not twenty. */
SEC("tracepoint/syscalls/sys_enter_read")
int rw_enter_read(struct trace_event_raw_sys_enter *ctx)
{ return rw_enter(ctx->args[0], 0); }

SEC("tracepoint/syscalls/sys_enter_write")
int rw_enter_write(struct trace_event_raw_sys_enter *ctx)
{ return rw_enter(ctx->args[0], 1); }

SEC("tracepoint/syscalls/sys_exit_read")
int rw_exit_syscall(struct trace_event_raw_sys_exit *ctx)
{ return rw_exit(ctx, ctx->ret); }

static __always_inline int rw_vfs_entry(void *ctx, struct file *file, u64 size, u32 write)
{
    struct rw_call c = {.file = file, .size = size, .write = write};

#ifdef RW_AT_RETURN
    return rw_save(&c);
#else
    if (!rw_wanted())
        return 0;
    c.ts = bpf_ktime_get_ns();
    return rw_done(ctx, &c, size);
#endif
}

SEC("kprobe/vfs_read")
int BPF_KPROBE(rw_kprobe_read, struct file *file, char *buf, size_t count)
{ return rw_vfs_entry(ctx, file, count, 0); }

SEC("kprobe/vfs_write")
int BPF_KPROBE(rw_kprobe_write, struct file *file, const char *buf, size_t count)
{ return rw_vfs_entry(ctx, file, count, 1); }

/* The counts of a top-like tool (filetop, dirtop), one per key of ``counts``. */
struct rw_counts {
    u64 reads;
    u64 writes;
    u64 rbytes;
    u64 wbytes;
};

/* Count call ``c`` that moved ``bytes`` (if positive) under ``key`` of hash
 * map ``counts`` (values struct rw_counts). */
static __always_inline void rw_count(void *counts, const void *key,
                                     const struct rw_call *c, long bytes)
{
    struct rw_counts *v, zero = {};

    v = map_lookup_or_init(counts, key, &zero);
    if (!v)
        return;
    if (c->write) {
        __sync_fetch_and_add(&v->writes, 1);
        if (bytes > 0)
            __sync_fetch_and_add(&v->wbytes, bytes);
    } else {
        __sync_fetch_and_add(&v->reads, 1);
        if (bytes > 0)
            __sync_fetch_and_add(&v->rbytes, bytes);
    }
}

#ifdef RW_AT_RETURN
static __always_inline int rw_vfs_return(void *ctx)
{
    struct rw_call c;

    return rw_take(&c) ? rw_done(ctx, &c, c.size) : 0;
}

SEC("kretprobe/vfs_read")
int BPF_KRETPROBE(rw_kretprobe_read) { return rw_vfs_return(ctx); }

SEC("kretprobe/vfs_write")
int BPF_KRETPROBE(rw_kretprobe_write) { return rw_vfs_return(ctx); }
#endif

#endif
