// tcpstates: every TCP state change with the time spent in the old state,
// from sock:inet_sock_set_state (Linux 4.16+), which carries the addresses
// and ports itself. PID/COMM are whoever runs at the change (often softirq).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <pybcc/tool.h>
#include <pybcc/inet.h>

struct event {
    u64 ts_us;
    u64 skaddr;
    u64 span_us;
    u32 pid;
    int oldstate;
    int newstate;
    INET_ENDPOINTS;
    char task[16];
};
PYBCC_RECORD(event);

const volatile u16 targ_family = 0;
PORT_LISTS;

/* socket → when it entered its current state */
HASH_MAP(last, u64, u64, 10240);

SEC("tracepoint/sock/inet_sock_set_state")
int set_state(struct trace_event_raw_inet_sock_set_state *args)
{
    u64 sk = (u64)args->skaddr;
    struct event e = {};

    if (args->protocol != PYBCC_IPPROTO_TCP)
        return 0;
    SET_STATE_ENDPOINTS(args, &e);
    if (!PORTS_LISTED(&e)) {
        bpf_map_delete_elem(&last, &sk);
        return 0;
    }
    if (targ_family && e.af != targ_family)
        return 0;

    u64 now = bpf_ktime_get_ns();
    u64 *tsp = bpf_map_lookup_elem(&last, &sk);
    e.span_us = tsp ? (now - *tsp) / 1000 : 0;
    e.ts_us = now / 1000;
    e.skaddr = sk;
    e.oldstate = args->oldstate;
    e.newstate = args->newstate;
    e.pid = bpf_get_current_pid_tgid() >> 32;
    bpf_get_current_comm(e.task, sizeof(e.task));
    emit_event(args, &e, sizeof(e));

    if (e.newstate == TCP_CLOSE)
        bpf_map_delete_elem(&last, &sk);
    else
        bpf_map_update_elem(&last, &sk, &now, BPF_ANY);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
