// capable: security capability checks. Three hooks, best first:
// a kprobe or fentry on cap_capable() sees its options (audit or not,
// insetid); the capability:cap_capable tracepoint (Linux 6.14) fires at its
// end without them (audit and insetid then unknown: -1).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <pybcc/tool.h>
#include <pybcc/containers.h>

#define CAP_OPT_NOAUDIT 0x2
#define CAP_OPT_INSETID 0x4

struct event {
    u32 tgid;
    u32 pid;
    u32 uid;
    s32 cap;
    s32 audit;
    s32 insetid;
    char comm[16];
    s32 kernel_stack_id;
    s32 user_stack_id;
};
PYBCC_RECORD(event);

struct repeat_t {
    s32 cap;
    u32 tgid;
    u64 cgroupid;
    s32 kernel_stack_id;
    s32 user_stack_id;
};

/* The tracepoint's record (its format file); older vmlinux.h lack the type. */
struct cap_capable_record {
    u64 common;
    const void *cred;
    void *target_ns;
    const void *capable_ns;
    int cap;
    int ret;
};

const volatile u32 targ_pid = 0;
const volatile u32 self_pid = 0;
const volatile bool verbose = false;
const volatile bool kernel_stack = false;
const volatile bool user_stack = false;
const volatile bool unique = false;

STACK_TRACE_MAP(stacks, 2048);

HASH_MAP(seen, struct repeat_t, u64, 10240);

static __always_inline int handle(void *ctx, int cap, int audit, int insetid)
{
    u64 id = bpf_get_current_pid_tgid();
    u32 tgid = id >> 32;
    struct event e = {};

    if (targ_pid && tgid != targ_pid)
        return 0;
    if (tgid == self_pid)
        return 0;
    if (!verbose && audit == 0)
        return 0;
    if (container_filtered())
        return 0;
    e.tgid = tgid;
    e.pid = (u32)id;
    e.uid = (u32)bpf_get_current_uid_gid();
    e.cap = cap;
    e.audit = audit;
    e.insetid = insetid;
    e.kernel_stack_id = kernel_stack ? bpf_get_stackid(ctx, &stacks, 0) : -1;
    e.user_stack_id = user_stack ? bpf_get_stackid(ctx, &stacks, BPF_F_USER_STACK) : -1;
    if (unique) {
        struct repeat_t r = {};
        u64 zero = 0;
        r.cap = cap;
        if (filter_cgroup)
            r.cgroupid = bpf_get_current_cgroup_id();
        else
            r.tgid = tgid;
        r.kernel_stack_id = e.kernel_stack_id;
        r.user_stack_id = e.user_stack_id;
        if (bpf_map_lookup_elem(&seen, &r))
            return 0;
        bpf_map_update_elem(&seen, &r, &zero, BPF_ANY);
    }
    bpf_get_current_comm(e.comm, sizeof(e.comm));
    emit_event(ctx, &e, sizeof(e));
    return 0;
}

SEC("kprobe/cap_capable")
int BPF_KPROBE(cap_capable_kprobe, const struct cred *cred, struct user_namespace *targ_ns,
               int cap, unsigned int opts)
{
    return handle(ctx, cap, !(opts & CAP_OPT_NOAUDIT), !!(opts & CAP_OPT_INSETID));
}

SEC("fentry/cap_capable")
int BPF_PROG(cap_capable_fentry, const struct cred *cred, struct user_namespace *targ_ns,
             int cap, unsigned int opts)
{
    return handle(ctx, cap, !(opts & CAP_OPT_NOAUDIT), !!(opts & CAP_OPT_INSETID));
}

SEC("tracepoint/capability/cap_capable")
int cap_capable_tp(struct cap_capable_record *ctx)
{
    return handle(ctx, ctx->cap, -1, -1);
}

char LICENSE[] SEC("license") = "GPL";
