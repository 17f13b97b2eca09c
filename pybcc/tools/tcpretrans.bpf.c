// tcpretrans: TCP retransmits (and, with kprobes or fentry, tail loss probes).
// The tcp:tcp_retransmit_skb tracepoint is read as a raw tracepoint, whose
// (sk, skb) arguments stay the same across kernels; the socket gives the rest.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <pybcc/tool.h>
#include <pybcc/inet.h>
#include <pybcc/counts.h>

#define RETRANSMIT 1
#define TLP 2

struct event {
    u32 pid;
    u32 seq;
    u8 type;
    u8 state;
    u16 pad;
    INET_ENDPOINTS;
};
PYBCC_RECORD(event);

struct flow_key {
    INET_ENDPOINTS;
};

const volatile u16 targ_family = 0;
const volatile bool do_count = false;

HASH_MAP(counts, struct flow_key, u64, 10240);

static __always_inline int trace_event(void *ctx, struct sock *sk, struct sk_buff *skb, u8 type)
{
    struct event e = {};

    if (!sk)
        return 0;
    e.af = BPF_CORE_READ(sk, __sk_common.skc_family);
    if (targ_family && e.af != targ_family)
        return 0;
    SOCK_ENDPOINTS(sk, &e);

    if (do_count) {
        struct flow_key key = {.af = e.af, .lport = e.lport, .dport = e.dport};
        __builtin_memcpy(key.saddr, e.saddr, 16);
        __builtin_memcpy(key.daddr, e.daddr, 16);
        map_add(&counts, &key, 1);
        return 0;
    }
    e.pid = bpf_get_current_pid_tgid() >> 32;
    e.type = type;
    e.state = BPF_CORE_READ(sk, __sk_common.skc_state);
    if (skb) {
        /* TCP_SKB_CB(skb)->seq */
        struct tcp_skb_cb *tcb = (struct tcp_skb_cb *)&skb->cb[0];
        e.seq = BPF_CORE_READ(tcb, seq);
    }
    emit_event(ctx, &e, sizeof(e));
    return 0;
}

SEC("raw_tp/tcp_retransmit_skb")
int BPF_PROG(retransmit_tp, struct sock *sk, struct sk_buff *skb)
{
    return trace_event(ctx, sk, skb, RETRANSMIT);
}

/* kernels before the tracepoint (4.15) */
SEC("kprobe/tcp_retransmit_skb")
int BPF_KPROBE(retransmit_kprobe, struct sock *sk, struct sk_buff *skb)
{
    return trace_event(ctx, sk, skb, RETRANSMIT);
}

SEC("kprobe/tcp_send_loss_probe")
int BPF_KPROBE(tlp_kprobe, struct sock *sk)
{
    return trace_event(ctx, sk, NULL, TLP);
}

SEC("fentry/tcp_send_loss_probe")
int BPF_PROG(tlp_fentry, struct sock *sk)
{
    return trace_event(ctx, sk, NULL, TLP);
}

char LICENSE[] SEC("license") = "GPL";
