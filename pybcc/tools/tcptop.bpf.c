// tcptop: TCP bytes sent and received per process and connection, summed in
// the kernel. sock:sock_send_length/sock_recv_length (Linux 6.5+) report
// what each sendmsg/recvmsg moved, in the calling process; older kernels
// use bcc's kprobes on tcp_sendmsg (bytes asked) and tcp_cleanup_rbuf
// (bytes copied). Both are read as raw tracepoints/kprobes with the socket.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <pybcc/tool.h>
#include <pybcc/inet.h>
#include <pybcc/containers.h>

#define MSG_PEEK 2

struct flow_key {
    u32 pid;
    INET_ENDPOINTS;
    char name[16];
};

struct traffic {
    u64 sent;
    u64 received;
};

const volatile u32 targ_tgid = 0;
const volatile u16 targ_family = 0;

HASH_MAP(flows, struct flow_key, struct traffic, 10240);

static __always_inline int count_bytes(struct sock *sk, long bytes, bool sent)
{
    struct flow_key key = {};
    struct traffic zero = {}, *t;

    if (bytes <= 0 || !sk)
        return 0;
    key.pid = bpf_get_current_pid_tgid() >> 32;
    if (targ_tgid && key.pid != targ_tgid)
        return 0;
    key.af = tcp_sock_family(sk);
    if (!key.af)
        return 0;
    if (targ_family && key.af != targ_family)
        return 0;
    if (container_filtered())
        return 0;
    SOCK_ENDPOINTS(sk, &key);
    bpf_get_current_comm(key.name, sizeof(key.name));

    t = map_lookup_or_init(&flows, &key, &zero);
    if (!t)
        return 0;
    if (sent)
        __sync_fetch_and_add(&t->sent, bytes);
    else
        __sync_fetch_and_add(&t->received, bytes);
    return 0;
}

SEC("raw_tp/sock_send_length")
int BPF_PROG(send_tp, struct sock *sk, int ret, int flags)
{
    return count_bytes(sk, ret, true);
}

SEC("raw_tp/sock_recv_length")
int BPF_PROG(recv_tp, struct sock *sk, int ret, int flags)
{
    if (flags & MSG_PEEK)       /* the data stays queued: counted when read */
        return 0;
    return count_bytes(sk, ret, false);
}

SEC("kprobe/tcp_sendmsg")
int BPF_KPROBE(send_kprobe, struct sock *sk, struct msghdr *msg, size_t size)
{
    return count_bytes(sk, size, true);
}

SEC("kprobe/tcp_cleanup_rbuf")
int BPF_KPROBE(recv_kprobe, struct sock *sk, int copied)
{
    return count_bytes(sk, copied, false);
}

char LICENSE[] SEC("license") = "GPL";
