// tcpsubnet: TCP bytes sent, summed per destination subnet (IPv4) in the
// kernel. sock:sock_send_length (Linux 6.5+) gives what each send moved;
// older kernels use bcc's kprobe on tcp_sendmsg (the bytes asked).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <pybcc/tool.h>
#include <pybcc/inet.h>
#include <pybcc/counts.h>

#define MAX_SUBNETS 64      /* lib: tcpsubnet.py MAX_SUBNETS */

/* the subnets in the user's order, network byte order; the first match counts */
const volatile u32 n_subnets = 0;
const volatile u32 nets[MAX_SUBNETS] = {};
const volatile u32 masks[MAX_SUBNETS] = {};

/* subnet index -> bytes */
HASH_MAP(sent, u32, u64, MAX_SUBNETS);

static __always_inline int count_sent(struct sock *sk, long bytes)
{
    if (bytes <= 0 || !sk || tcp_sock_family(sk) != PYBCC_AF_INET)
        return 0;
    u32 daddr = BPF_CORE_READ(sk, __sk_common.skc_daddr);
    for (u32 i = 0; i < MAX_SUBNETS; i++) {
        if (i >= n_subnets)
            break;
        if ((daddr & masks[i]) == (nets[i] & masks[i])) {
            map_add(&sent, &i, bytes);
            break;
        }
    }
    return 0;
}

SEC("raw_tp/sock_send_length")
int BPF_PROG(send_tp, struct sock *sk, int ret, int flags)
{
    return count_sent(sk, ret);
}

SEC("kprobe/tcp_sendmsg")
int BPF_KPROBE(send_kprobe, struct sock *sk, struct msghdr *msg, size_t size)
{
    return count_sent(sk, size);
}

char LICENSE[] SEC("license") = "GPL";
