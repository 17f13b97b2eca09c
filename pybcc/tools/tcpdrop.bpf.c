// tcpdrop: TCP packets the kernel drops, with the drop reason, from
// skb:kfree_skb (its reason field is Linux 5.17+). The socket is the skb's
// own, or the receiving one the tracepoint names (rx_sk, 6.13+) for drops
// before the skb is charged to it (a socket filter, a full backlog).
// Addresses and ports come from the packet's headers.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <pybcc/tool.h>
#include <pybcc/inet.h>

struct event {
    u32 pid;
    u32 reason;
    s32 stack_id;
    u16 ip;
    u16 sport;
    u16 dport;
    u8 state;
    u8 tcpflags;
    u8 saddr[16];
    u8 daddr[16];
};
PYBCC_RECORD(event);

const volatile u16 targ_family = 0;
const volatile u32 targ_netns = 0;
const volatile bool want_stack = false;

STACK_TRACE_MAP(stack_traces, 1024);

/* the tracepoint's record on 6.13+, where rx_sk was added */
struct trace_event_raw_kfree_skb___rx_sk {
    void *rx_sk;
} __attribute__((preserve_access_index));

SEC("tracepoint/skb/kfree_skb")
int kfree_skb(struct trace_event_raw_kfree_skb *args)
{
    struct sk_buff *skb = args->skbaddr;
    struct trace_event_raw_kfree_skb___rx_sk *rx = (void *)args;
    struct event e = {};
    struct sock *sk;

    if (!bpf_core_field_exists(args->reason))
        return 0;
    e.reason = args->reason;
    /* bcc's cut: not dropped, consumed and "not specified" are not drops worth showing */
    if (e.reason <= bpf_core_enum_value(enum skb_drop_reason, SKB_DROP_REASON_NOT_SPECIFIED))
        return 0;
    sk = BPF_CORE_READ(skb, sk);
    if (!sk && bpf_core_field_exists(rx->rx_sk))
        sk = BPF_CORE_READ(rx, rx_sk);
    if (!sk)
        return 0;
    u16 family = tcp_sock_family(sk);
    if (!family)
        return 0;
    if (targ_family && family != targ_family)
        return 0;
    if (targ_netns && sock_netns(sk) != targ_netns)
        return 0;

    unsigned char *head = BPF_CORE_READ(skb, head);
    unsigned char *nh = head + BPF_CORE_READ(skb, network_header);
    unsigned char *th = head + BPF_CORE_READ(skb, transport_header);
    u8 version = 0;
    bpf_probe_read_kernel(&version, 1, nh);
    e.ip = version >> 4;
    if (e.ip == 4) {
        bpf_probe_read_kernel(e.saddr, 4, nh + offsetof(struct iphdr, saddr));
        bpf_probe_read_kernel(e.daddr, 4, nh + offsetof(struct iphdr, daddr));
    } else if (e.ip == 6) {
        bpf_probe_read_kernel(e.saddr, 16, nh + offsetof(struct ipv6hdr, saddr));
        bpf_probe_read_kernel(e.daddr, 16, nh + offsetof(struct ipv6hdr, daddr));
    } else {
        return 0;
    }
    struct tcphdr tcp = {};
    bpf_probe_read_kernel(&tcp, sizeof(tcp), th);
    e.sport = bpf_ntohs(tcp.source);
    e.dport = bpf_ntohs(tcp.dest);
    bpf_probe_read_kernel(&e.tcpflags, 1, th + 13);   /* tcp_flag_byte */
    e.state = BPF_CORE_READ(sk, __sk_common.skc_state);
    e.pid = bpf_get_current_pid_tgid() >> 32;
    e.stack_id = want_stack ? bpf_get_stackid(args, &stack_traces, 0) : -1;
    emit_event(args, &e, sizeof(e));
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
