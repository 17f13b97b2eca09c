// statsnoop: stat()-family syscalls through the syscalls tracepoints. The
// enter side keeps the path pointer per thread; the exit side reads it and
// sends one event with the result.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <pybcc/tool.h>
#include <pybcc/callstash.h>

#define NAME_LEN 256

/* fd and err as bcc prints them: fd -1 and err = -ret on failure */
struct event {
    u64 ts_ns;
    u32 pid;
    s32 fd;
    s32 err;
    char comm[16];
    char fname[NAME_LEN];
};

const volatile u32 targ_pid = 0;
const volatile bool failed_only = false;

HASH_MAP(paths, u32, const char *, 10240);

DEFINE_SCRATCH(struct event, scratch_event);

static __always_inline int trace_enter(const char *fname)
{
    if (targ_pid && (bpf_get_current_pid_tgid() >> 32) != targ_pid)
        return 0;
    stash_put(&paths, &fname);
    return 0;
}

static __always_inline int trace_exit(void *ctx, long ret)
{
    const char **fname = stash_get(&paths);
    struct event *e;

    if (!fname)
        return 0;
    if (failed_only && ret >= 0)
        goto cleanup;
    e = scratch(&scratch_event);
    if (!e)
        goto cleanup;
    e->ts_ns = bpf_ktime_get_ns();
    e->pid = bpf_get_current_pid_tgid() >> 32;
    e->fd = ret >= 0 ? ret : -1;
    e->err = ret >= 0 ? 0 : -ret;
    bpf_get_current_comm(e->comm, sizeof(e->comm));
    if (bpf_probe_read_user_str(e->fname, sizeof(e->fname), *fname) < 0)
        e->fname[0] = 0;
    emit_event(ctx, e, sizeof(*e));
cleanup:
    stash_drop(&paths);
    return 0;
}

/* The path is the first argument of statfs/newstat/newlstat, the second
 * (after dfd) of newfstatat/statx. */
SEC("tracepoint/syscalls/sys_enter_newstat")
int enter_path_arg0(struct trace_event_raw_sys_enter *ctx)
{
    return trace_enter((const char *)ctx->args[0]);
}

SEC("tracepoint/syscalls/sys_enter_newfstatat")
int enter_path_arg1(struct trace_event_raw_sys_enter *ctx)
{
    return trace_enter((const char *)ctx->args[1]);
}

SYSCALL_EXIT_PROGRAM(stat_exit, newstat, trace_exit)

char LICENSE[] SEC("license") = "GPL";
