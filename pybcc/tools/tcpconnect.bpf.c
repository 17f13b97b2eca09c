// tcpconnect: active TCP connections (connect()).
// With kprobes: tcp_v4_connect/tcp_v6_connect entry saves the socket, the
// return reports it (bcc's way). Without: the sock:inet_sock_set_state
// tracepoint (CLOSE -> SYN_SENT, in the connecting task) saves the socket and
// the connect() syscall's exit reports it, when the local port is assigned.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <pybcc/tool.h>
#include <pybcc/maps.h>
#include <pybcc/inet.h>
#include <pybcc/counts.h>
#include <pybcc/containers.h>

struct event {
    u64 ts_us;
    u32 pid;
    u32 uid;
    INET_ENDPOINTS;
    char task[16];
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

/* A connect in progress, per thread: the socket, and what the tracepoint saw. */
struct pending {
    struct sock *sk;
    bool have_addrs;
    struct event e;
};

HASH_MAP(pendings, u32, struct pending, 10240);

HASH_MAP(counts, struct flow_key, u64, 10240);

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
    ep->pid = bpf_get_current_pid_tgid() >> 32;
    ep->uid = (u32)bpf_get_current_uid_gid();
    bpf_get_current_comm(ep->task, sizeof(ep->task));
    emit_event(ctx, ep, sizeof(*ep));
out:
    bpf_map_delete_elem(&pendings, &tid);
    return 0;
}

/* ---- kprobes (bcc's mechanism) ---- */

SEC("kprobe/tcp_v4_connect")
int BPF_KPROBE(tcp_v4_connect_entry, struct sock *sk)
{
    save_sock(sk);
    return 0;
}

SEC("kretprobe/tcp_v4_connect")
int BPF_KRETPROBE(tcp_v4_connect_return, int ret)
{
    return report(ctx, ret == 0);
}

SEC("kprobe/tcp_v6_connect")
int BPF_KPROBE(tcp_v6_connect_entry, struct sock *sk)
{
    save_sock(sk);
    return 0;
}

SEC("kretprobe/tcp_v6_connect")
int BPF_KRETPROBE(tcp_v6_connect_return, int ret)
{
    return report(ctx, ret == 0);
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
