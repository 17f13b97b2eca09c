// funcslower: calls of kernel or user functions slower than a threshold,
// with their arguments, return value and (-U/-K) stacks. The entry probe of
// each function carries its index + 1 as cookie; one return program serves
// all of them.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <pybcc/tool.h>
#include <pybcc/stacks.h>

#define TASK_COMM_LEN 16

const volatile u32 targ_tgid = 0;
const volatile u64 min_ns = 1000000;
// false before 5.15: one probe, read no cookie. Set by the Python side, not
// a LINUX_HAS_BPF_COOKIE __kconfig extern: that would read the kernel's
// whole configuration (/proc/config.gz, ~10 ms) at every start.
const volatile bool has_cookie = false;

struct entry {
    u64 id;
    u64 start_ns;
    u64 args[6];
    s32 user_stack_id;
    s32 kernel_stack_id;
};

struct event {
    u64 id;                 // the function: its index in the command line
    u64 tgid_pid;
    u64 start_ns;
    u64 duration_ns;
    u64 retval;
    char comm[TASK_COMM_LEN];
    u64 args[6];
    s32 user_stack_id;
    s32 kernel_stack_id;
};
PYBCC_RECORD(event);

HASH_MAP(entryinfo, u64, struct entry, 10240);

SEC("kprobe/funcslower")
int func_entry(struct pt_regs *ctx)
{
    u64 tgid_pid = bpf_get_current_pid_tgid();
    struct entry e = {};

    if (targ_tgid && (tgid_pid >> 32) != targ_tgid)
        return 0;
    e.id = has_cookie ? bpf_get_attach_cookie(ctx) - 1 : 0;
    e.start_ns = bpf_ktime_get_ns();
    e.args[0] = PT_REGS_PARM1(ctx);
    e.args[1] = PT_REGS_PARM2(ctx);
    e.args[2] = PT_REGS_PARM3(ctx);
    e.args[3] = PT_REGS_PARM4(ctx);
    e.args[4] = PT_REGS_PARM5(ctx);
    e.args[5] = PT_REGS_PARM6(ctx);
    get_stack_ids(ctx, &e.user_stack_id, &e.kernel_stack_id);
    bpf_map_update_elem(&entryinfo, &tgid_pid, &e, BPF_ANY);
    return 0;
}

SEC("kprobe/funcslower")
int func_return(struct pt_regs *ctx)
{
    u64 tgid_pid = bpf_get_current_pid_tgid();
    struct event ev = {};
    struct entry *e;

    e = bpf_map_lookup_elem(&entryinfo, &tgid_pid);
    if (!e)
        return 0;
    ev.duration_ns = bpf_ktime_get_ns() - e->start_ns;
    if (ev.duration_ns < min_ns) {
        bpf_map_delete_elem(&entryinfo, &tgid_pid);
        return 0;
    }
    ev.id = e->id;
    ev.tgid_pid = tgid_pid;
    ev.start_ns = e->start_ns;
    ev.retval = PT_REGS_RC(ctx);
    __builtin_memcpy(ev.args, e->args, sizeof(ev.args));
    ev.user_stack_id = e->user_stack_id;
    ev.kernel_stack_id = e->kernel_stack_id;
    bpf_map_delete_elem(&entryinfo, &tgid_pid);
    bpf_get_current_comm(ev.comm, sizeof(ev.comm));
    emit_event(ctx, &ev, sizeof(ev));
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
