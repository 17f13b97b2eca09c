// mptcpify: new TCP sockets of the chosen programs (or of all) become MPTCP
// sockets, by changing the protocol update_socket_protocol() returns (a
// hook the kernel offers BPF fmod_ret programs since 6.6).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <pybcc/maps.h>

#define AF_INET 2
#define AF_INET6 10
#define SOCK_STREAM 1
#define SOCK_TYPE_MASK 0xf
#define IPPROTO_TCP 6
#define IPPROTO_MPTCP 262

const volatile bool all_programs = true;

struct comm_key {
    char comm[16];
};

HASH_MAP(targets, struct comm_key, u8, 64);

SEC("fmod_ret/update_socket_protocol")
int BPF_PROG(mptcpify, int family, int type, int protocol)
{
    struct comm_key key = {};

    if ((family != AF_INET && family != AF_INET6) ||
        (type & SOCK_TYPE_MASK) != SOCK_STREAM || (protocol && protocol != IPPROTO_TCP))
        return protocol;
    if (!all_programs) {
        bpf_get_current_comm(&key.comm, sizeof(key.comm));
        if (!bpf_map_lookup_elem(&targets, &key))
            return protocol;
    }
    return IPPROTO_MPTCP;
}

char LICENSE[] SEC("license") = "GPL";
