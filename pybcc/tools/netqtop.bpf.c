// netqtop: packets and bytes per transmit and receive queue of one network
// interface, by size class, summed in the kernel from net:net_dev_start_xmit
// and net:netif_receive_skb (typed as tp_btf, raw_tp twins).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <pybcc/tool.h>
#include <pybcc/twins.h>
#include <pybcc/names.h>

#define MAX_QUEUES 1024

/* per queue; sizes: [0, 64), [64, 512), [512, 2K), [2K, 16K), [16K, 64K) */
struct queue_data {
    u64 total_len;
    u32 num_pkt;
    u32 sizes[5];
};

const volatile char targ_name[16] = {};

HASH_MAP(tx_q, u16, struct queue_data, MAX_QUEUES);
HASH_MAP(rx_q, u16, struct queue_data, MAX_QUEUES);

static __always_inline bool our_device(struct sk_buff *skb)
{
    char name[16];

    BPF_CORE_READ_STR_INTO(&name, skb, dev, name);
    return name_equal(name, targ_name, sizeof(name));
}

static __always_inline int count(void *map, struct sk_buff *skb, u16 qid)
{
    struct queue_data zero = {}, *d = map_lookup_or_init(map, &qid, &zero);
    u32 len = BPF_CORE_READ(skb, len);

    if (!d)
        return 0;
    __sync_fetch_and_add(&d->total_len, len);
    __sync_fetch_and_add(&d->num_pkt, 1);
    u32 cls = len < 64 ? 0 : len < 512 ? 1 : len < 2048 ? 2 : len < 16384 ? 3 : len < 65536 ? 4 : 5;
    if (cls < 5)
        __sync_fetch_and_add(&d->sizes[cls], 1);
    return 0;
}

static __always_inline int xmit(struct sk_buff *skb)
{
    if (!our_device(skb))
        return 0;
    return count(&tx_q, skb, BPF_CORE_READ(skb, queue_mapping));
}

static __always_inline int receive(struct sk_buff *skb)
{
    if (!our_device(skb))
        return 0;
    /* the driver records the rx queue as queue_mapping + 1 (0: not recorded) */
    u16 mapping = BPF_CORE_READ(skb, queue_mapping);
    return count(&rx_q, skb, mapping ? mapping - 1 : 0);
}

BTF_RAW_TP(start_xmit, net_dev_start_xmit, xmit((struct sk_buff *)ctx[0]))
BTF_RAW_TP(receive_skb, netif_receive_skb, receive((struct sk_buff *)ctx[0]))

char LICENSE[] SEC("license") = "GPL";
