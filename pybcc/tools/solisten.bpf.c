// solisten: listen() on TCP sockets, at the syscall's exit: the entry keeps
// the fd and backlog, and the fd leads through the task's file table to the
// socket, which holds the bound address and port (bcc: kprobe on inet_listen).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <pybcc/tool.h>
#include <pybcc/callstash.h>
#include <pybcc/inet.h>
#include <pybcc/fdsock.h>

struct event {
    u64 ts_us;
    u32 pid;
    u32 netns;
    int backlog;
    INET_ENDPOINTS;
    char task[16];
};
PYBCC_RECORD(event);

struct call {
    long fd;
    int backlog;
};

const volatile u32 targ_tgid = 0;
const volatile u32 targ_netns = 0;

/* thread -> the listen() it is in */
HASH_MAP(calls, u32, struct call, 10240);

SEC("tracepoint/syscalls/sys_enter_listen")
int listen_enter(struct trace_event_raw_sys_enter *args)
{
    u64 id = bpf_get_current_pid_tgid();
    struct call c = {.fd = args->args[0], .backlog = args->args[1]};

    if (targ_tgid && (id >> 32) != targ_tgid)
        return 0;
    stash_put(&calls, &c);
    return 0;
}

SEC("tracepoint/syscalls/sys_exit_listen")
int listen_exit(struct trace_event_raw_sys_exit *args)
{
    u64 id = bpf_get_current_pid_tgid();
    struct call *c = stash_get(&calls);
    struct event e = {};
    struct sock *sk;

    if (!c)
        return 0;
    e.backlog = c->backlog;
    sk = args->ret ? NULL : fd_tcp_sock(c->fd, &e.af);
    stash_drop(&calls);
    if (!sk)
        return 0;
    e.netns = sock_netns(sk);
    if (targ_netns && e.netns != targ_netns)
        return 0;
    SOCK_ENDPOINTS(sk, &e);
    e.ts_us = bpf_ktime_get_ns() / 1000;
    e.pid = id >> 32;
    bpf_get_current_comm(e.task, sizeof(e.task));
    emit_event(args, &e, sizeof(e));
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
