// execsnoop: trace exec() through the syscalls tracepoints.
// The enter side collects filename and argv per thread; the exit side adds
// the return value and sends one event.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <pybcc/tool.h>

#define ARGSIZE 128
#define TOTAL_MAX_ARGS 60
#define ARGS_BUF (TOTAL_MAX_ARGS * ARGSIZE)
#define LAST_ARG (ARGS_BUF - ARGSIZE)

struct event {
    u32 pid;
    u32 ppid;
    u32 uid;
    s32 retval;
    s32 args_count;
    u32 args_size;
    char comm[16];
    char args[ARGS_BUF];
};

const volatile int max_args = 20;
const volatile u32 targ_uid = (u32)-1;
const volatile u32 targ_ppid = 0;
const volatile bool ignore_failed = true;

HASH_MAP(execs, u32, struct event, 10240);

DEFINE_SCRATCH(struct event, empty_event);

SEC("tracepoint/syscalls/sys_enter_execve")
int execve_enter(struct trace_event_raw_sys_enter *ctx)
{
    u64 id = bpf_get_current_pid_tgid();
    u32 tid = (u32)id, uid = (u32)bpf_get_current_uid_gid();
    struct task_struct *task = (void *)bpf_get_current_task();
    struct event *e, *zero;
    const char **argv = (const char **)ctx->args[1];
    const char *argp;
    int i, n;

    if (targ_uid != (u32)-1 && uid != targ_uid)
        return 0;
    u32 ppid = BPF_CORE_READ(task, real_parent, tgid);
    if (targ_ppid && ppid != targ_ppid)
        return 0;
    zero = scratch(&empty_event);
    if (!zero || bpf_map_update_elem(&execs, &tid, zero, BPF_NOEXIST))
        return 0;
    e = bpf_map_lookup_elem(&execs, &tid);
    if (!e)
        return 0;
    e->pid = id >> 32;
    e->ppid = ppid;
    e->uid = uid;
    e->args_count = 0;
    e->args_size = 0;

    n = bpf_probe_read_user_str(e->args, ARGSIZE, (const char *)ctx->args[0]);
    if (n <= ARGSIZE)
        e->args_size += n > 0 ? n : 0;
    e->args_count++;

    for (i = 1; i < TOTAL_MAX_ARGS && i < max_args; i++) {
        if (bpf_probe_read_user(&argp, sizeof(argp), &argv[i]) || !argp)
            return 0;
        if (e->args_size > LAST_ARG)
            return 0;
        n = bpf_probe_read_user_str(&e->args[e->args_size], ARGSIZE, argp);
        if (n > ARGSIZE || n <= 0)
            return 0;
        e->args_count++;
        e->args_size += n;
    }
    /* more arguments than we keep: count one more so user space prints "..." */
    if (bpf_probe_read_user(&argp, sizeof(argp), &argv[max_args]) == 0 && argp)
        e->args_count++;
    return 0;
}

SEC("tracepoint/syscalls/sys_exit_execve")
int execve_exit(struct trace_event_raw_sys_exit *ctx)
{
    u32 tid = (u32)bpf_get_current_pid_tgid();
    struct event *e = bpf_map_lookup_elem(&execs, &tid);
    long ret = ctx->ret;

    if (!e)
        return 0;
    if (!(ignore_failed && ret < 0)) {
        e->retval = ret;
        bpf_get_current_comm(e->comm, sizeof(e->comm));
        u32 len = e->args_size;
        if (len > ARGS_BUF)
            len = ARGS_BUF;
        emit_event(ctx, e, offsetof(struct event, args) + len);
    }
    bpf_map_delete_elem(&execs, &tid);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
