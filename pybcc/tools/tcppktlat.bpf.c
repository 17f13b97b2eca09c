// tcppktlat (libbpf-tools): how long a received TCP segment waits before the
// application reads it. tcp:tcp_probe stamps each segment with data as it
// is processed; tcp:tcp_rcv_space_adjust runs in the reader's recvmsg, which
// reports the time since; tcp:tcp_destroy_sock forgets the socket.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <pybcc/tool.h>
#include <pybcc/inet.h>
#include <pybcc/twins.h>

struct event {
    u64 delta_us;
    u32 pid;
    u32 tid;
    INET_ENDPOINTS;
    char task[16];
};
PYBCC_RECORD(event);

const volatile u32 targ_tgid = 0;
const volatile u32 targ_tid = 0;
const volatile u16 targ_lport = 0;
const volatile u16 targ_rport = 0;
const volatile u64 min_us = 0;

/* socket -> when its last segment with data arrived */
HASH_MAP(arrived, u64, u64, 10240);

static __always_inline bool ports_wanted(struct sock *sk)
{
    if (targ_lport && BPF_CORE_READ(sk, __sk_common.skc_num) != targ_lport)
        return false;
    if (targ_rport && bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport)) != targ_rport)
        return false;
    return true;
}

static __always_inline int segment_in(struct sock *sk, struct sk_buff *skb)
{
    u64 key = (u64)sk, now;
    struct tcphdr *th;

    if (!ports_wanted(sk))
        return 0;
    th = (struct tcphdr *)BPF_CORE_READ(skb, data);
    /* only segments with payload: past the header (doff 32-bit words) */
    if (BPF_CORE_READ(skb, len) <= BPF_CORE_READ_BITFIELD_PROBED(th, doff) * 4)
        return 0;
    now = bpf_ktime_get_ns();
    bpf_map_update_elem(&arrived, &key, &now, BPF_ANY);
    return 0;
}

static __always_inline int read_by_app(void *ctx, struct sock *sk)
{
    u64 key = (u64)sk, id = bpf_get_current_pid_tgid();
    u64 *tsp = bpf_map_lookup_elem(&arrived, &key);
    struct event e = {.pid = id >> 32, .tid = id};

    if (!tsp)
        return 0;
    e.delta_us = (bpf_ktime_get_ns() - *tsp) / 1000;
    bpf_map_delete_elem(&arrived, &key);
    if ((targ_tgid && e.pid != targ_tgid) || (targ_tid && e.tid != targ_tid) ||
        e.delta_us <= min_us)
        return 0;
    e.af = BPF_CORE_READ(sk, __sk_common.skc_family);
    SOCK_ENDPOINTS(sk, &e);
    bpf_get_current_comm(e.task, sizeof(e.task));
    emit_event(ctx, &e, sizeof(e));
    return 0;
}

static __always_inline int sock_gone(struct sock *sk)
{
    u64 key = (u64)sk;

    bpf_map_delete_elem(&arrived, &key);
    return 0;
}

BTF_RAW_TP(probe, tcp_probe, segment_in((struct sock *)ctx[0], (struct sk_buff *)ctx[1]))
BTF_RAW_TP(space_adjust, tcp_rcv_space_adjust, read_by_app(ctx, (struct sock *)ctx[0]))
BTF_RAW_TP(destroy, tcp_destroy_sock, sock_gone((struct sock *)ctx[0]))

char LICENSE[] SEC("license") = "GPL";
