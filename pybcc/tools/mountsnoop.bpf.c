// mountsnoop: mount() and umount2(), and the new mount API (fsopen,
// fsconfig, fsmount, move_mount, as libbpf-tools' mountsnoop), from the
// syscalls tracepoints. The enter side keeps the arguments per thread; the
// exit side adds the return value and sends one event.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <pybcc/tool.h>
#include <pybcc/callstash.h>
#include <pybcc/containers.h>

#define STR_LEN 256

enum call { CALL_MOUNT = 1, CALL_UMOUNT, CALL_FSOPEN, CALL_FSCONFIG, CALL_FSMOUNT,
            CALL_MOVE_MOUNT };

#define FSCONFIG_SET_STRING 1
#define FSCONFIG_SET_PATH 3
#define FSCONFIG_SET_PATH_EMPTY 4

/* The strings hold, by call: mount: source, target, type, data; umount:
 * target; fsopen: type; fsconfig: source = key, data = value; move_mount:
 * source = from path, target = to path. */
struct event {
    u64 mnt_ns;
    u64 flags;
    u64 attr_flags;     /* fsmount's */
    s64 retval;
    s32 fd;             /* fsconfig, fsmount: the fs fd; move_mount: from_dfd */
    s32 fd2;            /* move_mount: to_dfd */
    u32 cmd;            /* fsconfig */
    s32 aux;            /* fsconfig */
    u32 pid;
    u32 tid;
    u32 ppid;
    u32 call;
    char comm[16];
    char pcomm[16];
    char source[STR_LEN];
    char target[STR_LEN];
    char type[STR_LEN];
    char data[STR_LEN];
};

HASH_MAP(calls, u32, struct event, 1024);

DEFINE_SCRATCH(struct event, empty_event);

/* A new per-thread record with the caller's identity, or NULL. */
static __always_inline struct event *begin(u32 call)
{
    u64 id = bpf_get_current_pid_tgid();
    u32 tid = (u32)id;
    struct task_struct *task = (void *)bpf_get_current_task();
    struct event *e;

    if (container_filtered())
        return NULL;
    e = stash_new(&calls, scratch(&empty_event));
    if (!e)
        return NULL;
    e->call = call;
    e->pid = id >> 32;
    e->tid = tid;
    e->mnt_ns = BPF_CORE_READ(task, nsproxy, mnt_ns, ns.inum);
    e->ppid = BPF_CORE_READ(task, real_parent, tgid);
    BPF_CORE_READ_STR_INTO(&e->pcomm, task, real_parent, comm);
    bpf_get_current_comm(e->comm, sizeof(e->comm));
    return e;
}

SEC("tracepoint/syscalls/sys_enter_mount")
int mount_enter(struct trace_event_raw_sys_enter *ctx)
{
    struct event *e = begin(CALL_MOUNT);

    if (!e)
        return 0;
    bpf_probe_read_user_str(e->source, STR_LEN, (const char *)ctx->args[0]);
    bpf_probe_read_user_str(e->target, STR_LEN, (const char *)ctx->args[1]);
    bpf_probe_read_user_str(e->type, STR_LEN, (const char *)ctx->args[2]);
    e->flags = ctx->args[3];
    bpf_probe_read_user_str(e->data, STR_LEN, (const char *)ctx->args[4]);
    return 0;
}

SEC("tracepoint/syscalls/sys_enter_umount")
int umount_enter(struct trace_event_raw_sys_enter *ctx)
{
    struct event *e = begin(CALL_UMOUNT);

    if (!e)
        return 0;
    bpf_probe_read_user_str(e->target, STR_LEN, (const char *)ctx->args[0]);
    e->flags = ctx->args[1];
    return 0;
}

SEC("tracepoint/syscalls/sys_enter_fsopen")
int fsopen_enter(struct trace_event_raw_sys_enter *ctx)
{
    struct event *e = begin(CALL_FSOPEN);

    if (!e)
        return 0;
    bpf_probe_read_user_str(e->type, STR_LEN, (const char *)ctx->args[0]);
    e->flags = (u32)ctx->args[1];
    return 0;
}

SEC("tracepoint/syscalls/sys_enter_fsconfig")
int fsconfig_enter(struct trace_event_raw_sys_enter *ctx)
{
    struct event *e = begin(CALL_FSCONFIG);
    u32 cmd = ctx->args[1];

    if (!e)
        return 0;
    e->fd = ctx->args[0];
    e->cmd = cmd;
    bpf_probe_read_user_str(e->source, STR_LEN, (const char *)ctx->args[2]);
    /* the value is a string only for these commands (else a blob or NULL) */
    if (cmd == FSCONFIG_SET_STRING || cmd == FSCONFIG_SET_PATH || cmd == FSCONFIG_SET_PATH_EMPTY)
        bpf_probe_read_user_str(e->data, STR_LEN, (const char *)ctx->args[3]);
    e->aux = ctx->args[4];
    return 0;
}

SEC("tracepoint/syscalls/sys_enter_fsmount")
int fsmount_enter(struct trace_event_raw_sys_enter *ctx)
{
    struct event *e = begin(CALL_FSMOUNT);

    if (!e)
        return 0;
    e->fd = ctx->args[0];
    e->flags = (u32)ctx->args[1];
    e->attr_flags = (u32)ctx->args[2];
    return 0;
}

SEC("tracepoint/syscalls/sys_enter_move_mount")
int move_mount_enter(struct trace_event_raw_sys_enter *ctx)
{
    struct event *e = begin(CALL_MOVE_MOUNT);

    if (!e)
        return 0;
    e->fd = ctx->args[0];
    bpf_probe_read_user_str(e->source, STR_LEN, (const char *)ctx->args[1]);
    e->fd2 = ctx->args[2];
    bpf_probe_read_user_str(e->target, STR_LEN, (const char *)ctx->args[3]);
    e->flags = (u32)ctx->args[4];
    return 0;
}

static __always_inline int finish(void *ctx, long ret)
{
    struct event *e = stash_get(&calls);

    if (!e)
        return 0;
    e->retval = ret;
    emit_event(ctx, e, sizeof(*e));
    stash_drop(&calls);
    return 0;
}

/* one program for the exits of all six calls (mountsnoop.py attaches it to
 * each): the same code, verified once */
SYSCALL_EXIT_PROGRAM(call_exit, mount, finish)

char LICENSE[] SEC("license") = "GPL";
