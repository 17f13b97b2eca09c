// shmsnoop: shmget/shmat/shmdt/shmctl from the syscalls tracepoints. The
// enter side keeps the arguments per thread; the exit side adds the return
// value and sends one event.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <pybcc/tool.h>
#include <pybcc/callstash.h>

enum { SYS_SHMGET, SYS_SHMAT, SYS_SHMDT, SYS_SHMCTL };

struct event {
    u64 id;         // pid << 32 | tid
    u64 ts_us;
    u64 key;
    u64 size;
    u64 shmflg;
    u64 shmid;
    u64 cmd;
    u64 buf;
    u64 shmaddr;
    u64 ret;
    u32 sys;
    char comm[16];
};
PYBCC_RECORD(event);

const volatile u32 targ_pid = 0;
const volatile u32 targ_tid = 0;

HASH_MAP(calls, u64, struct event, 10240);

static __always_inline struct event *begin(u32 sys)
{
    u64 id = bpf_get_current_pid_tgid();
    struct event e = {};

    if (targ_tid ? (u32)id != targ_tid : targ_pid && (id >> 32) != targ_pid)
        return NULL;
    e.id = id;
    e.sys = sys;
    bpf_map_update_elem(&calls, &id, &e, BPF_ANY);
    return bpf_map_lookup_elem(&calls, &id);
}

SEC("tracepoint/syscalls/sys_enter_shmget")
int enter_shmget(struct trace_event_raw_sys_enter *ctx)
{
    struct event *e = begin(SYS_SHMGET);

    if (e) {
        e->key = ctx->args[0];
        e->size = ctx->args[1];
        e->shmflg = ctx->args[2];
    }
    return 0;
}

SEC("tracepoint/syscalls/sys_enter_shmat")
int enter_shmat(struct trace_event_raw_sys_enter *ctx)
{
    struct event *e = begin(SYS_SHMAT);

    if (e) {
        e->shmid = ctx->args[0];
        e->shmaddr = ctx->args[1];
        e->shmflg = ctx->args[2];
    }
    return 0;
}

SEC("tracepoint/syscalls/sys_enter_shmdt")
int enter_shmdt(struct trace_event_raw_sys_enter *ctx)
{
    struct event *e = begin(SYS_SHMDT);

    if (e)
        e->shmaddr = ctx->args[0];
    return 0;
}

SEC("tracepoint/syscalls/sys_enter_shmctl")
int enter_shmctl(struct trace_event_raw_sys_enter *ctx)
{
    struct event *e = begin(SYS_SHMCTL);

    if (e) {
        e->shmid = ctx->args[0];
        e->cmd = ctx->args[1];
        e->buf = ctx->args[2];
    }
    return 0;
}

static __always_inline int finish(void *ctx, long ret)
{
    u64 id = bpf_get_current_pid_tgid();
    struct event *e = bpf_map_lookup_elem(&calls, &id);

    if (!e)
        return 0;
    e->ts_us = bpf_ktime_get_ns() / 1000;
    e->ret = ret;
    bpf_get_current_comm(e->comm, sizeof(e->comm));
    emit_event(ctx, e, sizeof(*e));
    bpf_map_delete_elem(&calls, &id);
    return 0;
}

SYSCALL_EXIT_PROGRAM(exit_shmget, shmget, finish)
SYSCALL_EXIT_PROGRAM(exit_shmat, shmat, finish)
SYSCALL_EXIT_PROGRAM(exit_shmdt, shmdt, finish)
SYSCALL_EXIT_PROGRAM(exit_shmctl, shmctl, finish)

char LICENSE[] SEC("license") = "GPL";
