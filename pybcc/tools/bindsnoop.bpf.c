// bindsnoop: bind() calls on IPv4/IPv6 sockets, from the bind syscall's
// tracepoints (bcc: kprobes on inet_bind/inet6_bind). The entry keeps the
// fd and the user's sockaddr; the exit reads the sockaddr, and the socket
// behind the fd for its protocol, options and the port the kernel chose.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <pybcc/tool.h>
#include <pybcc/callstash.h>
#include <pybcc/inet.h>
#include <pybcc/containers.h>
#include <pybcc/fdsock.h>
#include <pybcc/counts.h>

/* OPTS bits, as bcc prints them: F T N R r */
#define OPT_FREEBIND 1
#define OPT_TRANSPARENT 2
#define OPT_NO_PORT 4
#define OPT_REUSEADDR 8
#define OPT_REUSEPORT 16

struct event {
    u64 ts_us;
    u32 pid;
    u32 uid;
    s32 ret;
    u32 bound_dev_if;
    u16 af;
    u16 port;
    u16 protocol;
    u8 opts;
    u8 pad;
    u8 addr[16];
    char task[16];
};
PYBCC_RECORD(event);

struct flow_key {
    u16 af;
    u16 port;
    u32 pad;
    u8 addr[16];
};

struct call {
    long fd;
    void *uaddr;
};

const volatile u32 targ_tgid = 0;
const volatile bool filter_uid = false;
const volatile u32 targ_uid = 0;
const volatile bool show_errors = false;
const volatile bool do_count = false;
const volatile u32 n_ports = 0;
const volatile u16 ports[PYBCC_MAX_PORTS] = {};

HASH_MAP(calls, u32, struct call, 10240);

HASH_MAP(counts, struct flow_key, u64, 10240);

/* inet_sock's option bits before 6.6 (since then: inet_flags bit numbers) */
struct inet_sock___old {
    u8 freebind: 1;
    u8 transparent: 1;
    u8 bind_address_no_port: 1;
} __attribute__((preserve_access_index));

/* ... and since 6.6, so that the object builds against any kernel's vmlinux.h */
struct inet_sock___new {
    unsigned long inet_flags;
} __attribute__((preserve_access_index));

#define INET_FLAGS_FREEBIND_BIT 11
#define INET_FLAGS_TRANSPARENT_BIT 15
#define INET_FLAGS_BIND_ADDRESS_NO_PORT_BIT 18

static __always_inline u8 bind_options(struct sock *sk)
{
    struct inet_sock___new *inet = (void *)sk;
    struct inet_sock___old *old = (void *)sk;
    struct sock_common *skc = &sk->__sk_common;
    u8 opts = 0;

    if (bpf_core_field_exists(inet->inet_flags)) {
        unsigned long flags = BPF_CORE_READ(inet, inet_flags);
        opts |= (flags >> INET_FLAGS_FREEBIND_BIT & 1) ? OPT_FREEBIND : 0;
        opts |= (flags >> INET_FLAGS_TRANSPARENT_BIT & 1) ? OPT_TRANSPARENT : 0;
        opts |= (flags >> INET_FLAGS_BIND_ADDRESS_NO_PORT_BIT & 1) ? OPT_NO_PORT : 0;
    } else {
        opts |= BPF_CORE_READ_BITFIELD_PROBED(old, freebind) ? OPT_FREEBIND : 0;
        opts |= BPF_CORE_READ_BITFIELD_PROBED(old, transparent) ? OPT_TRANSPARENT : 0;
        opts |= BPF_CORE_READ_BITFIELD_PROBED(old, bind_address_no_port) ? OPT_NO_PORT : 0;
    }
    opts |= BPF_CORE_READ_BITFIELD_PROBED(skc, skc_reuse) ? OPT_REUSEADDR : 0;
    opts |= BPF_CORE_READ_BITFIELD_PROBED(skc, skc_reuseport) ? OPT_REUSEPORT : 0;
    return opts;
}

SEC("tracepoint/syscalls/sys_enter_bind")
int bind_enter(struct trace_event_raw_sys_enter *args)
{
    u64 id = bpf_get_current_pid_tgid();
    struct call c = {.fd = args->args[0], .uaddr = (void *)args->args[1]};

    if (targ_tgid && (id >> 32) != targ_tgid)
        return 0;
    if (filter_uid && (u32)bpf_get_current_uid_gid() != targ_uid)
        return 0;
    if (container_filtered())
        return 0;
    stash_put(&calls, &c);
    return 0;
}

SEC("tracepoint/syscalls/sys_exit_bind")
int bind_exit(struct trace_event_raw_sys_exit *args)
{
    u64 id = bpf_get_current_pid_tgid();
    struct call *c = stash_get(&calls);
    struct event e = {.ret = args->ret};
    struct sock *sk;

    if (!c)
        return 0;
    void *uaddr = c->uaddr;
    sk = fd_sock(c->fd);
    stash_drop(&calls);
    if (e.ret && !show_errors)
        return 0;
    if (!sk)
        return 0;
    e.af = BPF_CORE_READ(sk, __sk_common.skc_family);
    if (e.af != PYBCC_AF_INET && e.af != PYBCC_AF_INET6)
        return 0;

    /* what the caller asked for: struct sockaddr_in / sockaddr_in6 */
    u16 port = 0;
    bpf_probe_read_user(&port, 2, uaddr + 2);
    e.port = bpf_ntohs(port);
    if (e.af == PYBCC_AF_INET)
        bpf_probe_read_user(e.addr, 4, uaddr + 4);
    else
        bpf_probe_read_user(e.addr, 16, uaddr + 8);
    /* after a good bind, the port the kernel chose for port 0 */
    if (!e.ret && !e.port)
        e.port = BPF_CORE_READ(sk, __sk_common.skc_num);
    if (!port_in_list(ports, n_ports, e.port))
        return 0;

    if (do_count) {
        struct flow_key key = {.af = e.af, .port = e.port};
        __builtin_memcpy(key.addr, e.addr, 16);
        map_add(&counts, &key, 1);
        return 0;
    }
    e.ts_us = bpf_ktime_get_ns() / 1000;
    e.pid = id >> 32;
    e.uid = bpf_get_current_uid_gid();
    e.protocol = BPF_CORE_READ_BITFIELD_PROBED(sk, sk_protocol);
    e.bound_dev_if = BPF_CORE_READ(sk, __sk_common.skc_bound_dev_if);
    e.opts = bind_options(sk);
    bpf_get_current_comm(e.task, sizeof(e.task));
    emit_event(args, &e, sizeof(e));
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
