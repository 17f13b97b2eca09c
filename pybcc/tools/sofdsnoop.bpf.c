// sofdsnoop: file descriptors passed over sockets (SCM_RIGHTS), from the
// sendmsg()/recvmsg() syscall tracepoints: the first control message of the
// caller's msghdr is read from user memory, at sendmsg's entry (the fds
// sent) and at recvmsg's exit (the fds installed in the receiver).
// (bcc: kprobes on __scm_send and scm_detach_fds.)
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <pybcc/tool.h>
#include <pybcc/callstash.h>

#define SEND 0
#define RECV 1
#define MAX_FDS 253         /* the kernel's SCM_MAX_FD */
#define SOL_SOCKET 1
#define SCM_RIGHTS 1

struct event {
    u64 ts_us;
    u64 id;                 /* pid << 32 | tid */
    u32 action;
    int sock_fd;
    u32 fd_cnt;
    int fds[MAX_FDS];
    char task[16];
};
PYBCC_RECORD(event);

/* struct user_msghdr and struct cmsghdr as user space lays them out (64-bit) */
struct msghdr_u {
    void *name;
    int namelen;
    void *iov;
    u64 iovlen;
    void *control;
    u64 controllen;
    u32 flags;
};

struct cmsghdr_u {
    u64 len;
    int level;
    int type;
};

struct call {
    long fd;
    void *msg;
};

const volatile u32 targ_tgid = 0;
const volatile u32 targ_tid = 0;

DEFINE_SCRATCH(struct event, event_buf);
HASH_MAP(calls, u32, struct call, 10240);   /* thread -> its recvmsg() */

static __always_inline bool wanted(u64 id)
{
    if (targ_tid)
        return (u32)id == targ_tid;
    return !targ_tgid || id >> 32 == targ_tgid;
}

/* Send the SCM_RIGHTS fds of the first control message of user msghdr msg. */
static __always_inline int report(void *ctx, u64 id, long sock_fd, void *msg, u32 action)
{
    struct msghdr_u m = {};
    struct cmsghdr_u c = {};
    struct event *e;

    if (bpf_probe_read_user(&m, sizeof(m), msg) || !m.control || m.controllen < sizeof(c))
        return 0;
    if (bpf_probe_read_user(&c, sizeof(c), m.control) || c.level != SOL_SOCKET ||
        c.type != SCM_RIGHTS || c.len < sizeof(c))
        return 0;
    e = scratch(&event_buf);
    if (!e)
        return 0;
    e->fd_cnt = (c.len - sizeof(c)) / sizeof(int);
    if (e->fd_cnt > MAX_FDS)
        e->fd_cnt = MAX_FDS;
    u32 bytes = e->fd_cnt * sizeof(int);
    if (bytes > sizeof(e->fds))
        return 0;
    if (bpf_probe_read_user(e->fds, bytes, m.control + sizeof(c)))
        return 0;
    e->ts_us = bpf_ktime_get_ns() / 1000;
    e->id = id;
    e->action = action;
    e->sock_fd = sock_fd;
    bpf_get_current_comm(e->task, sizeof(e->task));
    emit_event(ctx, e, sizeof(*e));
    return 0;
}

SEC("tracepoint/syscalls/sys_enter_sendmsg")
int sendmsg_enter(struct trace_event_raw_sys_enter *args)
{
    u64 id = bpf_get_current_pid_tgid();

    if (!wanted(id))
        return 0;
    return report(args, id, args->args[0], (void *)args->args[1], SEND);
}

SEC("tracepoint/syscalls/sys_enter_recvmsg")
int recvmsg_enter(struct trace_event_raw_sys_enter *args)
{
    u64 id = bpf_get_current_pid_tgid();
    struct call c = {.fd = args->args[0], .msg = (void *)args->args[1]};

    if (wanted(id))
        stash_put(&calls, &c);
    return 0;
}

SEC("tracepoint/syscalls/sys_exit_recvmsg")
int recvmsg_exit(struct trace_event_raw_sys_exit *args)
{
    u64 id = bpf_get_current_pid_tgid();
    struct call *c = stash_get(&calls);

    if (!c)
        return 0;
    struct call call = *c;
    stash_drop(&calls);
    if (args->ret < 0)
        return 0;
    return report(args, id, call.fd, call.msg, RECV);
}

char LICENSE[] SEC("license") = "GPL";
