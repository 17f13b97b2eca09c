// killsnoop: signals sent with kill(2), from the syscalls tracepoints; the
// enter side keeps the arguments per thread, the exit side adds the result.
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
};

const volatile u32 targ_pid = 0;
const volatile s32 targ_tpid = 0;
const volatile s32 targ_sig = 0;
const volatile bool failed_only = false;

HASH_MAP(values, u32, struct event, 10240);

SEC("tracepoint/syscalls/sys_enter_kill")
int kill_enter(struct trace_event_raw_sys_enter *ctx)
{
    u32 pid = bpf_get_current_pid_tgid() >> 32;
    s32 tpid = (s32)ctx->args[0], sig = (s32)ctx->args[1];
    struct event e = {};

    if (targ_tpid && tpid != targ_tpid)
        return 0;
    if (targ_pid && pid != targ_pid)
        return 0;
    if (targ_sig && sig != targ_sig)
        return 0;
    e.pid = pid;
    e.tpid = tpid;
    e.sig = sig;
    bpf_get_current_comm(e.comm, sizeof(e.comm));
    stash_put(&values, &e);
    return 0;
}

SEC("tracepoint/syscalls/sys_exit_kill")
int kill_exit(struct trace_event_raw_sys_exit *ctx)
{
    struct event *e = stash_get(&values);

    if (!e)
        return 0;
    e->ret = ctx->ret;
    if (!(failed_only && e->ret >= 0))
        emit_event(ctx, e, sizeof(*e));
    stash_drop(&values);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
