// TCP: state changes (from which connects and accepts follow), connects by
// remote port, accepts by local port, retransmits by state, and drops of
// TCP packets by the kernel's drop reason.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <pybcc/twins.h>
#include <exporter/metrics.h>
#include <exporter/hooks.h>

#define IPPROTO_TCP_ 6
#define ETH_P_IP_ 0x0800
#define ETH_P_IPV6_ 0x86DD
#define TCP_ESTABLISHED_ 1
#define TCP_SYN_SENT_ 2
#define TCP_SYN_RECV_ 3
#define TCP_CLOSE_ 7

struct port_key {
    u16 family;
    u16 port;
};

/* transitions: every state change of every TCP socket, the set's most
 * frequent event, so a per-CPU array indexed old * 16 + new (states < 16):
 * an inlined lookup and a plain add, no hash, no atomic */
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 256);
    __type(key, u32);
    __type(value, u64);
} transitions SEC(".maps");
/* Connects by remote port and accepts by local port: two of a
 * connection's ~11 state changes. Counted per CPU in a small direct-mapped
 * table (an array: one inlined lookup, where a hash lookup here cost ~300
 * ns on cold cache lines); a (family, port) whose slot another one holds
 * goes to the hash map of the same name. User space adds both up. */
#define PORT_SLOTS 256          /* a power of 2 */

struct port_slot {
    struct port_key key;
    u32 pad;
    u64 count;                  /* 0: the slot is free */
};

#define PORT_SLOTS_MAP(name)                            \
    struct {                                            \
        __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);        \
        __uint(max_entries, PORT_SLOTS);                \
        __type(key, u32);                               \
        __type(value, struct port_slot);                \
    } name SEC(".maps")
PORT_SLOTS_MAP(connect_slots);
PORT_SLOTS_MAP(accept_slots);
PERCPU_METRIC_MAP(connects, struct port_key, u64, 1024);
PERCPU_METRIC_MAP(accepts, struct port_key, u64, 1024);
METRIC_MAP(retransmits, u32, u64, 32);          /* by TCP state */
/* drops by enum skb_drop_reason: per CPU by number below COMMON_REASONS
 * (an array: no hash lookup, no atomic), the others (subsystem reasons
 * have high bits set) in the hash map */
#define COMMON_REASONS 256
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, COMMON_REASONS);
    __type(key, u32);
    __type(value, u64);
} common_drops SEC(".maps");
METRIC_MAP(drops, u32, u64, 512);

static __always_inline void count_port(void *slots, void *overflow, u16 family, u16 port)
{
    u32 index = (port ^ (port >> 8)) & (PORT_SLOTS - 1);
    struct port_slot *slot = bpf_map_lookup_elem(slots, &index);
    struct port_key pk = { .family = family, .port = port };

    if (slot) {
        if (!slot->count) {     // free on this CPU: take it
            slot->key = pk;
        }
        if (slot->key.family == family && slot->key.port == port) {
            slot->count += 1;   // this CPU's copy
            return;
        }
    }
    percpu_counter_add(overflow, &pk, 1);
}

static __always_inline int on_state(bool direct, const struct sock *sk, int old_state,
                                    int new_state)
{
    u32 index = ((u32)old_state << 4) | ((u32)new_state & 15);
    u64 *n;

    if (FIELD(direct, sk, sk_protocol) != IPPROTO_TCP_)
        return 0;
    n = bpf_map_lookup_elem(&transitions, &index);
    if (n)
        *n += 1;        // this CPU's copy
    /* the ports only on the two transitions that count them */
    if (old_state == TCP_CLOSE_ && new_state == TCP_SYN_SENT_)
        count_port(&connect_slots, &connects, FIELD(direct, sk, __sk_common.skc_family),
                   bpf_ntohs(FIELD(direct, sk, __sk_common.skc_dport)));
    else if (old_state == TCP_SYN_RECV_ && new_state == TCP_ESTABLISHED_)
        count_port(&accept_slots, &accepts, FIELD(direct, sk, __sk_common.skc_family),
                   FIELD(direct, sk, __sk_common.skc_num));
    return 0;
}

static __always_inline int on_retransmit(const struct sock *sk)
{
    u32 state = BPF_CORE_READ(sk, __sk_common.skc_state);

    counter_add(&retransmits, &state, 1);
    return 0;
}

/* The IP protocol of a packet: read from its network header (packet
 * bytes: a probe read even in tp_btf). */
static __always_inline u8 ip_protocol(bool direct, struct sk_buff *skb)
{
    u16 proto = bpf_ntohs(FIELD(direct, skb, protocol));
    unsigned char *nh = FIELD(direct, skb, head) + FIELD(direct, skb, network_header);
    u8 p = 0;

    if (proto == ETH_P_IP_)
        bpf_probe_read_kernel(&p, 1, nh + offsetof(struct iphdr, protocol));
    else if (proto == ETH_P_IPV6_)
        bpf_probe_read_kernel(&p, 1, nh + offsetof(struct ipv6hdr, nexthdr));
    return p;
}

#define AF_INET_ 2
#define AF_INET6_ 10
#define TCPF_NOT_FULL ((1 << 6) | (1 << 12))    /* TIME_WAIT, NEW_SYN_RECV */

/* The protocol of a packet that belongs to a full IP socket: that
 * socket's (plain loads in tp_btf, where the packet's header is a probe
 * read of a cold line; most drops are of a socket's queue at close,
 * QUEUE_PURGE). 0 when the packet has no such socket. */
static __always_inline u8 sock_protocol(bool direct, struct sk_buff *skb)
{
    struct sock *sk = FIELD(direct, skb, sk);
    u16 family;

    if (!sk)
        return 0;
    family = FIELD(direct, sk, __sk_common.skc_family);
    if (family != AF_INET_ && family != AF_INET6_)
        return 0;
    if ((1 << FIELD(direct, sk, __sk_common.skc_state)) & TCPF_NOT_FULL)
        return 0;
    return FIELD(direct, sk, sk_protocol);
}

static __always_inline int on_drop(bool direct, struct sk_buff *skb, u32 reason)
{
    u8 protocol = sock_protocol(direct, skb);
    u64 *n;

    if (!protocol)
        protocol = ip_protocol(direct, skb);
    if (protocol != IPPROTO_TCP_)
        return 0;
    n = bpf_map_lookup_elem(&common_drops, &reason);
    if (n)
        *n += 1;        // this CPU's copy
    else
        counter_add(&drops, &reason, 1);
    return 0;
}

/* inet_sock_set_state(sk, oldstate, newstate) */
DIRECT_TWINS(set_state, inet_sock_set_state,
             on_state, (const struct sock *)ctx[0], (int)ctx[1], (int)ctx[2])
/* tcp_retransmit_skb(sk, skb, ...) */
BTF_RAW_TP(retransmit, tcp_retransmit_skb, on_retransmit((const struct sock *)ctx[0]))
/* kfree_skb(skb, location, reason, ...) */
DIRECT_TWINS(kfree_skb, kfree_skb, on_drop, (struct sk_buff *)ctx[0], (u32)ctx[2])
/* before 5.17, kfree_skb(skb, location): no reason, counted as 0
 * (SKB_NOT_DROPPED_YET, which a drop never has), exported as "unknown" */
DIRECT_TWINS(kfree_skb_noreason, kfree_skb, on_drop, (struct sk_buff *)ctx[0], 0)

char LICENSE[] SEC("license") = "GPL";
