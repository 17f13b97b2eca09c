/* The enter/exit pairing of a syscall's tracepoints: the enter side stashes
 * what it saw (arguments, a start time, a half-filled record) under the
 * current thread's id, the exit side takes it back and drops it. The map is
 * the tool's own, keyed by u32 thread id: HASH_MAP(start, u32, T, 10240).
 */
#ifndef __PYBCC_CALLSTASH_H
#define __PYBCC_CALLSTASH_H

#include <bpf/bpf_helpers.h>

static __always_inline void stash_put(void *map, const void *value)
{
    u32 tid = (u32)bpf_get_current_pid_tgid();

    bpf_map_update_elem(map, &tid, value, BPF_ANY);
}

/* A copy of ``zero`` stashed for this thread, to fill in place; NULL if
 * there is no zero record or the map is full. */
static __always_inline void *stash_new(void *map, const void *zero)
{
    u32 tid = (u32)bpf_get_current_pid_tgid();

    if (!zero || bpf_map_update_elem(map, &tid, zero, BPF_ANY))
        return NULL;
    return bpf_map_lookup_elem(map, &tid);
}

/* What this thread's enter side stashed, or NULL. */
static __always_inline void *stash_get(void *map)
{
    u32 tid = (u32)bpf_get_current_pid_tgid();

    return bpf_map_lookup_elem(map, &tid);
}

static __always_inline void stash_drop(void *map)
{
    u32 tid = (u32)bpf_get_current_pid_tgid();

    bpf_map_delete_elem(map, &tid);
}

/* The program PROG on SEC("tracepoint/syscalls/sys_exit_CALL"), handing
 * the syscall's return value to the tool's HANDLER(ctx, ret). */
#define SYSCALL_EXIT_PROGRAM(prog, call, handler)               \
    SEC("tracepoint/syscalls/sys_exit_" #call)                  \
    int prog(struct trace_event_raw_sys_exit *ctx)              \
    {                                                           \
        return handler(ctx, ctx->ret);                          \
    }

#endif
