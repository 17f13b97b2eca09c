// tcpconnlat: TCP active-open latency, from the SYN sent to the SYN-ACK
// processed, with sock:inet_sock_set_state: CLOSE -> SYN_SENT runs in the
// connecting process (connect() sets it), SYN_SENT -> ESTABLISHED when the
// SYN-ACK arrives (bcc: kprobes on tcp_v[46]_connect and tcp_rcv_state_process).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <pybcc/tool.h>
#include <pybcc/inet.h>

struct event {
    u64 ts_us;
    u64 delta_us;
    u32 pid;
    INET_ENDPOINTS;
    char task[16];
};
PYBCC_RECORD(event);

struct start {
    u64 ts;
    u32 pid;
    char task[16];
};

const volatile u32 targ_tgid = 0;
const volatile u16 targ_family = 0;
const volatile u64 min_us = 0;

HASH_MAP(starts, u64, struct start, 10240);

SEC("tracepoint/sock/inet_sock_set_state")
int set_state(struct trace_event_raw_inet_sock_set_state *args)
{
    u64 sk = (u64)args->skaddr;
    int oldstate = args->oldstate, newstate = args->newstate;
    u16 af = args->family;

    if (args->protocol != PYBCC_IPPROTO_TCP)
        return 0;
    if (newstate == TCP_SYN_SENT) {
        struct start s = {.ts = bpf_ktime_get_ns(), .pid = bpf_get_current_pid_tgid() >> 32};
        if (targ_tgid && s.pid != targ_tgid)
            return 0;
        if (targ_family && af != targ_family)
            return 0;
        bpf_get_current_comm(s.task, sizeof(s.task));
        bpf_map_update_elem(&starts, &sk, &s, BPF_ANY);
        return 0;
    }
    if (oldstate != TCP_SYN_SENT)
        return 0;

    struct start *s = bpf_map_lookup_elem(&starts, &sk);
    if (!s)
        return 0;
    struct event e = {.pid = s->pid, .af = af};
    u64 now = bpf_ktime_get_ns();
    e.delta_us = (now - s->ts) / 1000;
    __builtin_memcpy(e.task, s->task, sizeof(e.task));
    bpf_map_delete_elem(&starts, &sk);
    /* SYN_SENT -> CLOSE: refused or timed out, no latency to show */
    if (newstate != TCP_ESTABLISHED || e.delta_us < min_us)
        return 0;
    e.ts_us = now / 1000;
    SET_STATE_ENDPOINTS(args, &e);
    emit_event(args, &e, sizeof(e));
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
