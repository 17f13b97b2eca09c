// sigsnoop: signals as the kernel generates them (signal:signal_generate,
// which names the target and carries its comm), or, with -k, the kill(2),
// tkill(2) and tgkill(2) syscalls with their results. killsnoop runs the
// kill(2) pair of this object.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <pybcc/tool.h>
#include <pybcc/callstash.h>

struct event {
    u32 pid;
    s32 tpid;
    s32 sig;
    s32 ret;
    char comm[16];
    char tcomm[16];
};

const volatile u32 filtered_pid = 0;
const volatile s32 target_pid = 0;        /* killsnoop -T: this target of kill(2) only */
const volatile u64 target_signals = 0;    /* bit (sig - 1) set: trace sig; 0: all */
const volatile bool failed_only = false;

HASH_MAP(pending, u32, struct event, 10240);

static __always_inline bool wanted(u32 pid, int sig)
{
    if (filtered_pid && pid != filtered_pid)
        return false;
    if (target_signals && (sig < 1 || sig > 64 || !(target_signals & (1ULL << (sig - 1)))))
        return false;
    return true;
}

SEC("tracepoint/signal/signal_generate")
int sig_generate(struct trace_event_raw_signal_generate *ctx)
{
    u32 pid = bpf_get_current_pid_tgid() >> 32;
    struct event e = {};

    if (!wanted(pid, ctx->sig) || (failed_only && ctx->errno == 0))
        return 0;
    e.pid = pid;
    e.tpid = ctx->pid;
    e.sig = ctx->sig;
    e.ret = ctx->errno;
    bpf_get_current_comm(e.comm, sizeof(e.comm));
    bpf_probe_read_kernel(e.tcomm, sizeof(e.tcomm), ctx->comm);
    emit_event(ctx, &e, sizeof(e));
    return 0;
}

/* kill(pid, sig), tkill(tid, sig): target and signal are args 0 and 1;
 * tgkill(tgid, tid, sig): args 1 and 2 */
static __always_inline int kill_enter(s32 tpid, int sig)
{
    u32 pid = bpf_get_current_pid_tgid() >> 32;
    struct event e = {};

    if (!wanted(pid, sig) || (target_pid && tpid != target_pid))
        return 0;
    e.pid = pid;
    e.tpid = tpid;
    e.sig = sig;
    bpf_get_current_comm(e.comm, sizeof(e.comm));
    stash_put(&pending, &e);
    return 0;
}

static __always_inline int kill_exit(void *ctx, long ret)
{
    struct event *e = stash_get(&pending);

    if (!e)
        return 0;
    e->ret = ret;
    if (!(failed_only && ret >= 0))
        emit_event(ctx, e, sizeof(*e));
    stash_drop(&pending);
    return 0;
}

SEC("tracepoint/syscalls/sys_enter_kill")
int kill_entry(struct trace_event_raw_sys_enter *ctx)
{
    return kill_enter(ctx->args[0], ctx->args[1]);
}

SYSCALL_EXIT_PROGRAM(kill_return, kill, kill_exit)

SEC("tracepoint/syscalls/sys_enter_tkill")
int tkill_entry(struct trace_event_raw_sys_enter *ctx)
{
    return kill_enter(ctx->args[0], ctx->args[1]);
}

SYSCALL_EXIT_PROGRAM(tkill_return, tkill, kill_exit)

SEC("tracepoint/syscalls/sys_enter_tgkill")
int tgkill_entry(struct trace_event_raw_sys_enter *ctx)
{
    return kill_enter(ctx->args[1], ctx->args[2]);
}

SYSCALL_EXIT_PROGRAM(tgkill_return, tgkill, kill_exit)

char LICENSE[] SEC("license") = "GPL";
