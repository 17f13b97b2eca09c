// tcpaccept: TCP connections accepted by a process, at the exit of the
// accept()/accept4() syscalls: the process context gives PID and COMM (the
// connection itself completes in softirq, whose PID would be meaningless),
// and the returned fd leads through the task's file table to the socket.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <pybcc/tool.h>
#include <pybcc/inet.h>
#include <pybcc/containers.h>
#include <pybcc/fdsock.h>

struct event {
    u64 ts_us;
    u32 pid;
    INET_ENDPOINTS;
    char task[16];
};
PYBCC_RECORD(event);

const volatile u32 targ_tgid = 0;
const volatile u16 targ_family = 0;
const volatile u32 n_lports = 0;
const volatile u16 lports[PYBCC_MAX_PORTS] = {};

static __always_inline int accepted(void *ctx, long fd)
{
    struct event e = {};
    struct sock *sk;

    if (fd < 0)
        return 0;
    e.pid = bpf_get_current_pid_tgid() >> 32;
    if (targ_tgid && e.pid != targ_tgid)
        return 0;
    if (container_filtered())
        return 0;
    sk = fd_tcp_sock(fd, &e.af);
    if (!sk)
        return 0;
    if (targ_family && e.af != targ_family)
        return 0;
    SOCK_ENDPOINTS(sk, &e);
    if (!port_in_list(lports, n_lports, e.lport))
        return 0;
    e.ts_us = bpf_ktime_get_ns() / 1000;
    bpf_get_current_comm(e.task, sizeof(e.task));
    emit_event(ctx, &e, sizeof(e));
    return 0;
}

ACCEPT_EXIT_PROGRAMS(accepted)

char LICENSE[] SEC("license") = "GPL";
