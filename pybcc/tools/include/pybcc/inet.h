/* BPF-side pieces of the TCP tools: bcc's -L/-D port lists (filled by
 * lib/inet.py's ports_constant) and the 16-byte address copies the Python
 * side's format_addr reads back. A tool's record names its endpoint fields
 * af, lport, dport (host order), saddr[16] and daddr[16]: SOCK_ENDPOINTS and
 * SET_STATE_ENDPOINTS fill them from a socket or from the tracepoint. */
#ifndef __PYBCC_INET_H
#define __PYBCC_INET_H

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

#define PYBCC_AF_INET 2
#define PYBCC_AF_INET6 10
#define PYBCC_IPPROTO_TCP 6
#define PYBCC_MAX_PORTS 64     /* lib/inet.py MAX_PORTS */

/* A record's endpoint fields, as SOCK_ENDPOINTS and SET_STATE_ENDPOINTS fill
 * them and lib/inet.py's saddr/daddr/ip_version read them. */
#define INET_ENDPOINTS      \
    u16 af;                 \
    u16 lport;              \
    u16 dport;              \
    u16 endpoints_pad;      \
    u8 saddr[16];           \
    u8 daddr[16]

/* true when the list is empty (no filter) or holds port */
static __always_inline bool port_in_list(const volatile u16 *list, u32 n, u16 port)
{
    if (!n)
        return true;
    for (int i = 0; i < PYBCC_MAX_PORTS; i++) {
        if (i >= n)
            break;
        if (list[i] == port)
            return true;
    }
    return false;
}

/* bcc's -L/-D of tcplife and tcpstates: the local and remote ports to show
 * (empty lists: all), set by lib/inet.py's port_constants. */
#define PORT_LISTS                                          \
    const volatile u32 n_lports = 0;                        \
    const volatile u16 lports[PYBCC_MAX_PORTS] = {};        \
    const volatile u32 n_dports = 0;                        \
    const volatile u16 dports[PYBCC_MAX_PORTS] = {}

/* The record's lport and dport pass PORT_LISTS' -L and -D. */
#define PORTS_LISTED(rec) \
    (port_in_list(lports, n_lports, (rec)->lport) && port_in_list(dports, n_dports, (rec)->dport))

/* The socket's local and remote addresses into 16-byte arrays (IPv4 in the first 4). */
static __always_inline void sock_addrs(struct sock *sk, u16 af, u8 *saddr, u8 *daddr)
{
    if (af == PYBCC_AF_INET) {
        BPF_CORE_READ_INTO((u32 *)saddr, sk, __sk_common.skc_rcv_saddr);
        BPF_CORE_READ_INTO((u32 *)daddr, sk, __sk_common.skc_daddr);
    } else {
        BPF_CORE_READ_INTO((u8 (*)[16])saddr, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
        BPF_CORE_READ_INTO((u8 (*)[16])daddr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
    }
}

/* The addresses sock:inet_sock_set_state carries, by probe reads (the
 * verifier refuses moved ctx pointers). */
static __always_inline void set_state_addrs(struct trace_event_raw_inet_sock_set_state *args,
                                            u16 af, u8 *saddr, u8 *daddr)
{
    if (af == PYBCC_AF_INET) {
        bpf_probe_read_kernel(saddr, 4, args->saddr);
        bpf_probe_read_kernel(daddr, 4, args->daddr);
    } else {
        bpf_probe_read_kernel(saddr, 16, args->saddr_v6);
        bpf_probe_read_kernel(daddr, 16, args->daddr_v6);
    }
}

/* The socket's ports and addresses into a record's lport, dport, saddr, daddr
 * (the record's af must be set: IPv4 or IPv6). */
#define SOCK_ENDPOINTS(sk, rec) do {                                            \
        (rec)->lport = BPF_CORE_READ(sk, __sk_common.skc_num);                  \
        (rec)->dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));     \
        sock_addrs(sk, (rec)->af, (rec)->saddr, (rec)->daddr);                  \
    } while (0)

/* The same from sock:inet_sock_set_state's fields (ports in host order). */
#define SET_STATE_ENDPOINTS(args, rec) do {                                     \
        (rec)->af = (args)->family;                                             \
        (rec)->lport = (args)->sport;                                           \
        (rec)->dport = (args)->dport;                                           \
        set_state_addrs(args, (rec)->af, (rec)->saddr, (rec)->daddr);           \
    } while (0)

/* The inode number of the socket's network namespace (bcc's NETNS). */
static __always_inline u32 sock_netns(struct sock *sk)
{
    return BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
}

/* The program attach_accept_exits (lib/inet.py) attaches to the exits of
 * both accept4() and accept() (one program: loading it twice cost a second
 * verification at every start); it calls handler(ctx, returned fd). */
#define ACCEPT_EXIT_PROGRAMS(handler)                                           \
    SEC("tracepoint/syscalls/sys_exit_accept4")                                 \
    int accept_exit(struct trace_event_raw_sys_exit *args)                      \
    {                                                                           \
        return handler(args, args->ret);                                        \
    }

/* A TCP socket's family, or 0 when it is not TCP over IPv4/IPv6. */
static __always_inline u16 tcp_sock_family(struct sock *sk)
{
    u16 af;

    if (BPF_CORE_READ_BITFIELD_PROBED(sk, sk_protocol) != PYBCC_IPPROTO_TCP)
        return 0;
    af = BPF_CORE_READ(sk, __sk_common.skc_family);
    return af == PYBCC_AF_INET || af == PYBCC_AF_INET6 ? af : 0;
}

#endif
