// tcpcong: time each TCP flow spends in each congestion-control state
// (open, disorder, cwr, recovery, loss), summed per flow or as histograms.
// tcp:tcp_cong_state_set (Linux 6.0+) reports each change with the new
// state; older kernels use bcc's probes on the functions that change it,
// reading icsk_ca_state when they return (fexit, else kretprobe).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <pybcc/tool.h>
#include <pybcc/inet.h>
#include <pybcc/counts.h>

#define N_STATES 5      /* TCP_CA_Open .. TCP_CA_Loss */

struct flow_key {
    INET_ENDPOINTS;
};

struct flow {
    u64 last_ts;
    u32 state;          /* the state since last_ts */
    u32 pad;
    u64 us[N_STATES];   /* time spent in each state before its last change */
    u64 changes;
};

struct hist_key {
    u32 state;
    u32 slot;
};

const volatile bool do_dist = false;
const volatile bool targ_ms = false;     /* histogram slots of ms, not us */
const volatile u16 lport_min = 0, lport_max = 0xffff;
const volatile u16 dport_min = 0, dport_max = 0xffff;

HASH_MAP(flows, struct flow_key, struct flow, 10240);

HASH_MAP(hists, struct hist_key, u64, 1024);

/* kprobe path: the socket at the entry of the function running on a thread */
HASH_MAP(entered, u32, struct sock *, 10240);

/* The flow of sk enters ``state``: account the time spent in the one before. */
static __always_inline int state_set(struct sock *sk, u32 state)
{
    struct flow_key key = {};
    struct flow *f;
    u64 now = bpf_ktime_get_ns();

    key.af = BPF_CORE_READ(sk, __sk_common.skc_family);
    if (key.af != PYBCC_AF_INET && key.af != PYBCC_AF_INET6)
        return 0;
    SOCK_ENDPOINTS(sk, &key);
    if (key.lport < lport_min || key.lport > lport_max ||
        key.dport < dport_min || key.dport > dport_max)
        return 0;
    f = bpf_map_lookup_elem(&flows, &key);
    if (!f) {
        struct flow first = {.last_ts = now, .state = state};
        bpf_map_update_elem(&flows, &key, &first, BPF_NOEXIST);
        return 0;
    }
    if (f->state == state || state >= N_STATES)
        return 0;
    u64 us = (now - f->last_ts) / 1000;
    u32 last = f->state;
    f->last_ts = now;
    f->state = state;
    if (do_dist) {
        struct hist_key h = {.state = last, .slot = log2_slot(targ_ms ? us / 1000 : us)};
        map_add(&hists, &h, 1);
    } else if (last < N_STATES) {
        __sync_fetch_and_add(&f->us[last], us);
        __sync_fetch_and_add(&f->changes, 1);
    }
    return 0;
}

static __always_inline u32 ca_state(struct sock *sk)
{
    struct inet_connection_sock *icsk = (void *)sk;

    return BPF_CORE_READ_BITFIELD_PROBED(icsk, icsk_ca_state);
}

SEC("raw_tp/tcp_cong_state_set")
int BPF_PROG(cong_state_tp, struct sock *sk, u8 state)
{
    return state_set(sk, state);
}

/* bcc's probes: the functions that change the state, read when they return */
#define CHANGER(fn)                                                         \
    SEC("fexit/" #fn)                                                       \
    int BPF_PROG(fn##_fexit, struct sock *sk)                               \
    {                                                                       \
        return state_set(sk, ca_state(sk));                                 \
    }                                                                       \
    SEC("kprobe/" #fn)                                                      \
    int BPF_KPROBE(fn##_kprobe, struct sock *sk)                            \
    {                                                                       \
        u32 tid = bpf_get_current_pid_tgid();                               \
        bpf_map_update_elem(&entered, &tid, &sk, BPF_ANY);                  \
        return 0;                                                           \
    }                                                                       \
    SEC("kretprobe/" #fn)                                                   \
    int BPF_KRETPROBE(fn##_kretprobe)                                       \
    {                                                                       \
        u32 tid = bpf_get_current_pid_tgid();                               \
        struct sock **skp = bpf_map_lookup_elem(&entered, &tid);            \
        if (!skp)                                                           \
            return 0;                                                       \
        struct sock *sk = *skp;                                             \
        bpf_map_delete_elem(&entered, &tid);                                \
        return state_set(sk, ca_state(sk));                                 \
    }

CHANGER(tcp_fastretrans_alert)
CHANGER(tcp_enter_cwr)
CHANGER(tcp_process_tlp_ack)
CHANGER(tcp_enter_loss)
CHANGER(tcp_enter_recovery)

char LICENSE[] SEC("license") = "GPL";
