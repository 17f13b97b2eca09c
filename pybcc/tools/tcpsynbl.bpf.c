// tcpsynbl: the listen backlog when each handshake completes, as log2
// histograms per backlog limit. bcc probes tcp_v[46]_syn_recv_sock; inside
// it the new socket is cloned from the listener and set LISTEN -> SYN_RECV
// (sock:inet_sock_set_state), still holding the listener's copied
// sk_ack_backlog and sk_max_ack_backlog, which this reads.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <pybcc/tool.h>
#include <pybcc/inet.h>
#include <pybcc/counts.h>

struct hist_key {
    u32 backlog_max;
    u32 pad;
    u64 slot;
};

const volatile u16 targ_family = 0;

HASH_MAP(hists, struct hist_key, u64, 1024);

static __always_inline int count_backlog(struct sock *sk)
{
    struct hist_key key = {};

    key.backlog_max = BPF_CORE_READ(sk, sk_max_ack_backlog);
    key.slot = log2_slot(BPF_CORE_READ(sk, sk_ack_backlog));
    map_add(&hists, &key, 1);
    return 0;
}

SEC("tracepoint/sock/inet_sock_set_state")
int set_state(struct trace_event_raw_inet_sock_set_state *args)
{
    if (args->protocol != PYBCC_IPPROTO_TCP)
        return 0;
    if (args->oldstate != TCP_LISTEN || args->newstate != TCP_SYN_RECV)
        return 0;
    if (targ_family && args->family != targ_family)
        return 0;
    return count_backlog((struct sock *)args->skaddr);
}

/* bcc's probes, for kernels before the tracepoint (4.16): sk is the listener */
SEC("kprobe/tcp_v4_syn_recv_sock")
int BPF_KPROBE(v4_kprobe, struct sock *sk)
{
    return count_backlog(sk);
}

SEC("kprobe/tcp_v6_syn_recv_sock")
int BPF_KPROBE(v6_kprobe, struct sock *sk)
{
    return count_backlog(sk);
}

char LICENSE[] SEC("license") = "GPL";
