// tcplife: one line per TCP session when it closes, with its lifespan and
// bytes, from sock:inet_sock_set_state. The session's birth is its first
// early state; the process is the one that connected (SYN_SENT) or closed
// it first from the server side (LAST_ACK), else whoever runs at close.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <pybcc/tool.h>
#include <pybcc/inet.h>

struct event {
    u64 ts_us;
    u64 span_us;
    u64 rx_b;
    u64 tx_b;
    u32 pid;
    INET_ENDPOINTS;
    char task[16];
};
PYBCC_RECORD(event);

struct id {
    u32 pid;
    char task[16];
};

const volatile u32 targ_tgid = 0;
const volatile u16 targ_family = 0;
PORT_LISTS;

HASH_MAP(birth, u64, u64, 10240);

HASH_MAP(whoami, u64, struct id, 10240);

SEC("tracepoint/sock/inet_sock_set_state")
int set_state(struct trace_event_raw_inet_sock_set_state *args)
{
    u64 sk = (u64)args->skaddr;
    int newstate = args->newstate;
    u32 pid = bpf_get_current_pid_tgid() >> 32;
    struct event e = {};

    if (args->protocol != PYBCC_IPPROTO_TCP)
        return 0;
    SET_STATE_ENDPOINTS(args, &e);
    if (!PORTS_LISTED(&e)) {
        bpf_map_delete_elem(&birth, &sk);
        return 0;
    }
    /* any early state: the PID is not reliable yet, so filter later */
    if (newstate < TCP_FIN_WAIT1) {
        u64 ts = bpf_ktime_get_ns();
        bpf_map_update_elem(&birth, &sk, &ts, BPF_ANY);
    }
    if (newstate == TCP_SYN_SENT || newstate == TCP_LAST_ACK) {
        if (targ_tgid && pid != targ_tgid)
            return 0;
        struct id me = {.pid = pid};
        bpf_get_current_comm(me.task, sizeof(me.task));
        bpf_map_update_elem(&whoami, &sk, &me, BPF_ANY);
    }
    if (newstate != TCP_CLOSE)
        return 0;

    u64 *tsp = bpf_map_lookup_elem(&birth, &sk);
    if (!tsp) {
        bpf_map_delete_elem(&whoami, &sk);
        return 0;           /* born before we started */
    }
    u64 now = bpf_ktime_get_ns();
    e.span_us = (now - *tsp) / 1000;
    bpf_map_delete_elem(&birth, &sk);

    struct id *me = bpf_map_lookup_elem(&whoami, &sk);
    if (me) {
        pid = me->pid;
        __builtin_memcpy(e.task, me->task, sizeof(e.task));
        bpf_map_delete_elem(&whoami, &sk);
    } else {
        bpf_get_current_comm(e.task, sizeof(e.task));
    }
    if (targ_tgid && pid != targ_tgid)
        return 0;
    if (targ_family && e.af != targ_family)
        return 0;

    struct tcp_sock *tp = (struct tcp_sock *)sk;
    e.rx_b = BPF_CORE_READ(tp, bytes_received);
    e.tx_b = BPF_CORE_READ(tp, bytes_acked);
    e.ts_us = now / 1000;
    e.pid = pid;
    emit_event(args, &e, sizeof(e));
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
