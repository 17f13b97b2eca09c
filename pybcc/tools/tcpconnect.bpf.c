// tcpconnect: active TCP connections (connect()).
// With kprobes: tcp_v4_connect/tcp_v6_connect entry saves the socket, the
// return reports it (bcc's way). Without: the sock:inet_sock_set_state
// tracepoint (CLOSE -> SYN_SENT, in the connecting task) saves the socket and
// the connect() syscall's exit reports it, when the local port is assigned.
// -d: uprobes on libc's getaddrinfo() keep the names resolved by address
// (bcc: kprobe on udp_recvmsg and a DNS parser in user space).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <pybcc/tool.h>
#include <pybcc/inet.h>
#include <pybcc/counts.h>
#include <pybcc/containers.h>

struct event {
    u64 ts_us;
    u32 pid;
    u32 uid;
    INET_ENDPOINTS;
    char task[16];
    u64 query_ts;           /* -d: when getaddrinfo() resolved the name below */
    char query[128];
};
PYBCC_RECORD(event);

struct flow_key {
    u16 af;
    u16 dport;
    u8 saddr[16];
    u8 daddr[16];
};

const volatile u32 targ_tgid = 0;
const volatile u32 targ_uid = (u32)-1;
const volatile u16 targ_family = 0;          /* 0: both */
const volatile u32 n_ports = 0;
const volatile u16 ports[PYBCC_MAX_PORTS] = {};    /* host byte order */
const volatile bool do_count = false;
const volatile bool want_dns = false;

/* A connect in progress, per thread: the socket, and what the tracepoint saw. */
struct pending {
    struct sock *sk;
    bool have_addrs;
    struct event e;
};

HASH_MAP(pendings, u32, struct pending, 10240);

HASH_MAP(counts, struct flow_key, u64, 10240);

/* -d: the names getaddrinfo() resolved, by address (uprobes on libc) */
struct dns_key {
    u16 af;
    u16 pad;
    u8 addr[16];
};

struct dns_name {
    u64 ts;                 /* when the lookup returned */
    char name[128];
};

struct lookup {
    const char *node;
    void **res;
};

LRU_HASH_MAP(dns_names, struct dns_key, struct dns_name, 10240);

HASH_MAP(lookups, u32, struct lookup, 10240);   /* thread -> its getaddrinfo() */

/* struct addrinfo as glibc lays it out (64-bit) */
struct addrinfo_u {
    int flags;
    int family;
    int socktype;
    int protocol;
    u32 addrlen;
    void *addr;
    char *canonname;
    struct addrinfo_u *next;
};

static __always_inline bool task_wanted(void)
{
    u32 tgid = bpf_get_current_pid_tgid() >> 32;
    u32 uid = (u32)bpf_get_current_uid_gid();

    if (targ_tgid && tgid != targ_tgid)
        return false;
    if (targ_uid != (u32)-1 && uid != targ_uid)
        return false;
    return !container_filtered();
}

static __always_inline struct pending *save_sock(struct sock *sk)
{
    u32 tid = (u32)bpf_get_current_pid_tgid();
    struct pending p = {.sk = sk};

    if (!task_wanted())
        return NULL;
    bpf_map_update_elem(&pendings, &tid, &p, BPF_ANY);
    return bpf_map_lookup_elem(&pendings, &tid);
}

/* The thread's pending connect is done: count it or send it. Addresses come
 * from the socket unless the tracepoint saved them (a refused connect has
 * cleared the socket's by the time connect() returns). */
static __always_inline int report(void *ctx, bool ok)
{
    u32 tid = (u32)bpf_get_current_pid_tgid();
    struct pending *p = bpf_map_lookup_elem(&pendings, &tid);

    if (!p)
        return 0;
    struct sock *sk = p->sk;
    struct event *ep = &p->e;
    if (!ok)
        goto out;
    if (!p->have_addrs) {
        ep->af = BPF_CORE_READ(sk, __sk_common.skc_family);
        SOCK_ENDPOINTS(sk, ep);
    }
    ep->lport = BPF_CORE_READ(sk, __sk_common.skc_num);
    if ((targ_family && ep->af != targ_family) || !port_in_list(ports, n_ports, ep->dport))
        goto out;

    if (do_count) {
        struct flow_key key = {.af = ep->af, .dport = ep->dport};
        __builtin_memcpy(key.saddr, ep->saddr, 16);
        __builtin_memcpy(key.daddr, ep->daddr, 16);
        map_add(&counts, &key, 1);
        goto out;
    }
    ep->ts_us = bpf_ktime_get_ns() / 1000;
    if (want_dns) {
        /* the name now: a later lookup may change it before user space reads */
        struct dns_key key = {.af = ep->af};
        __builtin_memcpy(key.addr, ep->daddr, 16);
        struct dns_name *found = bpf_map_lookup_elem(&dns_names, &key);
        if (found) {
            ep->query_ts = found->ts;
            __builtin_memcpy(ep->query, found->name, sizeof(ep->query));
        }
    }
    ep->pid = bpf_get_current_pid_tgid() >> 32;
    ep->uid = (u32)bpf_get_current_uid_gid();
    bpf_get_current_comm(ep->task, sizeof(ep->task));
    emit_event(ctx, ep, sizeof(*ep));
out:
    bpf_map_delete_elem(&pendings, &tid);
    return 0;
}

/* ---- kprobes (bcc's mechanism) ---- */

/* fn_entry saves the socket, fn_return reports it */
#define CONNECT_KPROBES(fn)                                     \
    SEC("kprobe/" #fn)                                          \
    int BPF_KPROBE(fn##_entry, struct sock *sk)                 \
    {                                                           \
        save_sock(sk);                                          \
        return 0;                                               \
    }                                                           \
    SEC("kretprobe/" #fn)                                       \
    int BPF_KRETPROBE(fn##_return, int ret)                     \
    {                                                           \
        return report(ctx, ret == 0);                           \
    }

CONNECT_KPROBES(tcp_v4_connect)
CONNECT_KPROBES(tcp_v6_connect)

/* ---- -d: getaddrinfo() ---- */

/* An address written as text ("10.1.2.3", "::1"): getaddrinfo() resolved no name. */
static __always_inline bool numeric_address(const char *name)
{
    for (int i = 0; i < 64; i++) {
        char c = name[i];
        if (!c)
            return i > 0;
        if (c == ':')
            return true;
        if (c != '.' && (c < '0' || c > '9'))
            return false;
    }
    return false;
}

SEC("uprobe/libc:getaddrinfo")
int BPF_UPROBE(getaddrinfo_entry, const char *node, const char *service, void *hints,
               void **res)
{
    u32 tid = bpf_get_current_pid_tgid();
    struct lookup l = {.node = node, .res = res};

    if (node && task_wanted())
        bpf_map_update_elem(&lookups, &tid, &l, BPF_ANY);
    return 0;
}

SEC("uretprobe/libc:getaddrinfo")
int BPF_URETPROBE(getaddrinfo_return, int ret)
{
    u32 tid = bpf_get_current_pid_tgid();
    struct lookup *l = bpf_map_lookup_elem(&lookups, &tid);
    struct dns_name value = {};
    struct addrinfo_u ai = {}, *next = NULL;

    if (!l)
        return 0;
    struct lookup call = *l;
    bpf_map_delete_elem(&lookups, &tid);
    if (ret || bpf_probe_read_user(&next, sizeof(next), call.res))
        return 0;
    value.ts = bpf_ktime_get_ns();
    bpf_probe_read_user_str(value.name, sizeof(value.name), call.node);
    if (numeric_address(value.name))
        return 0;           /* no name was looked up (bcc sees DNS answers only) */
    for (int i = 0; i < 8 && next; i++) {       /* the first addresses of the answer */
        struct dns_key key = {};
        if (bpf_probe_read_user(&ai, sizeof(ai), next) ||
            bpf_probe_read_user(&key.af, sizeof(key.af), ai.addr))
            break;
        if (key.af == PYBCC_AF_INET)
            bpf_probe_read_user(key.addr, 4, ai.addr + 4);     /* sin_addr */
        else if (key.af == PYBCC_AF_INET6)
            bpf_probe_read_user(key.addr, 16, ai.addr + 8);    /* sin6_addr */
        if (key.af == PYBCC_AF_INET || key.af == PYBCC_AF_INET6)
            bpf_map_update_elem(&dns_names, &key, &value, BPF_ANY);
        next = ai.next;
    }
    return 0;
}

/* ---- tracepoints ---- */

SEC("tracepoint/sock/inet_sock_set_state")
int connect_state(struct trace_event_raw_inet_sock_set_state *args)
{
    if (args->protocol != PYBCC_IPPROTO_TCP || args->newstate != TCP_SYN_SENT ||
        args->oldstate != TCP_CLOSE)
        return 0;
    struct pending *p = save_sock((struct sock *)args->skaddr);
    if (!p)
        return 0;
    p->have_addrs = true;
    SET_STATE_ENDPOINTS(args, &p->e);   /* lport is 0 yet: read at the exit */
    return 0;
}

SEC("tracepoint/syscalls/sys_exit_connect")
int connect_exit(struct trace_event_raw_sys_exit *args)
{
    /* whatever connect() returns (-EINPROGRESS, -ECONNREFUSED), the SYN went out */
    return report(args, true);
}

char LICENSE[] SEC("license") = "GPL";
