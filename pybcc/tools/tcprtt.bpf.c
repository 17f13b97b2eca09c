// tcprtt: TCP smoothed RTT as log2 histograms, per local or remote address
// if asked. tcp:tcp_probe fires where bcc's kprobe does (tcp_rcv_established)
// and is read as a raw tracepoint, whose (sk, skb) arguments are the same on
// every kernel since 4.16; the kprobe serves older kernels.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <pybcc/tool.h>
#include <pybcc/inet.h>
#include <pybcc/counts.h>

#define BY_NONE 0
#define BY_LADDR 1
#define BY_RADDR 2

struct addr_key {
    u16 af;                 /* 0: all addresses */
    u16 pad[3];
    u8 addr[16];
};

struct hist_key {
    struct addr_key who;
    u64 slot;
};

struct avg {
    u64 total;
    u64 count;
};

const volatile u16 targ_family = 0;
const volatile u16 targ_lport = 0;
const volatile u16 targ_rport = 0;
const volatile u16 targ_laddr_af = 0;
const volatile u8 targ_laddr[16] = {};
const volatile u16 targ_raddr_af = 0;
const volatile u8 targ_raddr[16] = {};
const volatile bool targ_ms = false;
const volatile int key_by = BY_NONE;
const volatile bool want_avg = false;

HASH_MAP(hists, struct hist_key, u64, 10240);

HASH_MAP(avgs, struct addr_key, struct avg, 10240);

static __always_inline bool addr_matches(u16 want_af, const volatile u8 *want, u16 af, u8 *addr)
{
    if (!want_af)
        return true;
    if (af != want_af)
        return false;
    int n = af == PYBCC_AF_INET ? 4 : 16;
    for (int i = 0; i < 16; i++)
        if (i < n && want[i] != addr[i])
            return false;
    return true;
}

static __always_inline int rtt_sample(struct sock *sk)
{
    struct tcp_sock *tp = (struct tcp_sock *)sk;
    u8 saddr[16] = {}, daddr[16] = {};
    u16 af = BPF_CORE_READ(sk, __sk_common.skc_family);

    if (af != PYBCC_AF_INET && af != PYBCC_AF_INET6)
        return 0;
    if (targ_family && af != targ_family)
        return 0;
    if (targ_lport && BPF_CORE_READ(sk, __sk_common.skc_num) != targ_lport)
        return 0;
    if (targ_rport && bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport)) != targ_rport)
        return 0;
    sock_addrs(sk, af, saddr, daddr);
    if (!addr_matches(targ_laddr_af, targ_laddr, af, saddr) ||
        !addr_matches(targ_raddr_af, targ_raddr, af, daddr))
        return 0;

    u64 srtt = BPF_CORE_READ(tp, srtt_us) >> 3;    /* srtt_us is 8 times the RTT */
    if (targ_ms)
        srtt /= 1000;
    struct hist_key key = {.slot = log2_slot(srtt)};
    if (key_by != BY_NONE) {
        key.who.af = af;
        __builtin_memcpy(key.who.addr, key_by == BY_LADDR ? saddr : daddr, 16);
    }
    map_add(&hists, &key, 1);
    if (want_avg) {
        struct avg zero = {}, *a = map_lookup_or_init(&avgs, &key.who, &zero);
        if (a) {
            __sync_fetch_and_add(&a->total, srtt);
            __sync_fetch_and_add(&a->count, 1);
        }
    }
    return 0;
}

SEC("raw_tp/tcp_probe")
int BPF_PROG(probe_raw, struct sock *sk, struct sk_buff *skb)
{
    return rtt_sample(sk);
}

/* kernels before the tcp_probe tracepoint (4.16) */
SEC("kprobe/tcp_rcv_established")
int BPF_KPROBE(rcv_kprobe, struct sock *sk)
{
    return rtt_sample(sk);
}

char LICENSE[] SEC("license") = "GPL";
