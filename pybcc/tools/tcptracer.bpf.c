// tcptracer: TCP connections as they are established (connect, accept) and
// closed, with the process that owns them.
// - connect: sock:inet_sock_set_state CLOSE -> SYN_SENT runs in connect(),
//   which names the owner; SYN_SENT -> ESTABLISHED reports it (bcc: kprobes
//   on tcp_v[46]_connect and tcp_set_state).
// - accept: the accept()/accept4() syscalls' exit, the fd leading to the
//   socket (bcc: kretprobe on inet_csk_accept).
// - close: the local side starts closing an established connection
//   (ESTABLISHED -> FIN_WAIT1 or CLOSE, CLOSE_WAIT -> LAST_ACK or CLOSE);
//   FIN_WAIT1 and LAST_ACK are set by close()/shutdown() in the process, a
//   reset's CLOSE may come in softirq: then the owner seen at connect/accept
//   is shown (bcc: kprobe on tcp_close).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <pybcc/tool.h>
#include <pybcc/inet.h>
#include <pybcc/containers.h>
#include <pybcc/fdsock.h>

#define CONNECT 1
#define ACCEPT 2
#define CLOSE 3

struct event {
    u64 ts_ns;
    u32 pid;
    u32 netns;
    u32 type;
    INET_ENDPOINTS;
    char task[16];
};
PYBCC_RECORD(event);

struct owner {
    u32 pid;
    char task[16];
};

const volatile u32 targ_tgid = 0;
const volatile u32 targ_netns = 0;
const volatile u16 targ_family = 0;

/* socket -> the process that connected or accepted it */
HASH_MAP(owners, u64, struct owner, 10240);

/* The current process as owner, or false when -p or the container sets exclude it. */
static __always_inline bool current_owner(struct owner *o)
{
    o->pid = bpf_get_current_pid_tgid() >> 32;
    if (targ_tgid && o->pid != targ_tgid)
        return false;
    if (container_filtered())
        return false;
    bpf_get_current_comm(o->task, sizeof(o->task));
    return true;
}

/* Send e (endpoints filled) as ``type`` of owner o, unless filtered out;
 * bcc leaves out tuples with a zero port. */
static __always_inline void report(void *ctx, struct event *e, struct sock *sk,
                                   struct owner *o, u8 type)
{
    if (targ_family && e->af != targ_family)
        return;
    e->netns = sock_netns(sk);
    if (targ_netns && e->netns != targ_netns)
        return;
    if (!e->lport || !e->dport)
        return;
    e->type = type;
    e->pid = o->pid;
    __builtin_memcpy(e->task, o->task, sizeof(e->task));
    e->ts_ns = bpf_ktime_get_ns();
    emit_event(ctx, e, sizeof(*e));
}

SEC("tracepoint/sock/inet_sock_set_state")
int set_state(struct trace_event_raw_inet_sock_set_state *args)
{
    u64 key = (u64)args->skaddr;
    struct sock *sk = args->skaddr;
    int oldstate = args->oldstate, newstate = args->newstate;
    struct owner me = {}, *o;
    struct event e = {};

    if (args->protocol != PYBCC_IPPROTO_TCP)
        return 0;
    if (newstate == TCP_SYN_SENT) {
        if (current_owner(&me))
            bpf_map_update_elem(&owners, &key, &me, BPF_ANY);
        return 0;
    }
    o = bpf_map_lookup_elem(&owners, &key);
    SET_STATE_ENDPOINTS(args, &e);
    if (oldstate == TCP_SYN_SENT && newstate == TCP_ESTABLISHED) {
        if (o)
            report(args, &e, sk, o, CONNECT);
    } else if ((oldstate == TCP_ESTABLISHED || oldstate == TCP_CLOSE_WAIT) &&
               (newstate == TCP_FIN_WAIT1 || newstate == TCP_LAST_ACK ||
                newstate == TCP_CLOSE)) {
        if (newstate != TCP_CLOSE && current_owner(&me))
            report(args, &e, sk, &me, CLOSE);
        else if (newstate == TCP_CLOSE && o)
            report(args, &e, sk, o, CLOSE);
        else if (newstate == TCP_CLOSE && !o && current_owner(&me))
            report(args, &e, sk, &me, CLOSE);
    }
    if (newstate == TCP_CLOSE && o)
        bpf_map_delete_elem(&owners, &key);
    return 0;
}

static __always_inline int accepted(void *ctx, long fd)
{
    struct owner me = {};
    struct event e = {};
    struct sock *sk;
    u64 key;

    if (fd < 0 || !current_owner(&me))
        return 0;
    sk = fd_tcp_sock(fd, &e.af);
    if (!sk)
        return 0;
    SOCK_ENDPOINTS(sk, &e);
    key = (u64)sk;
    bpf_map_update_elem(&owners, &key, &me, BPF_ANY);
    report(ctx, &e, sk, &me, ACCEPT);
    return 0;
}

ACCEPT_EXIT_PROGRAMS(accepted)

char LICENSE[] SEC("license") = "GPL";
