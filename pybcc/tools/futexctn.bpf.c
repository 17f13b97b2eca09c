// futexctn: futex wait times (contention of user-space locks) per thread,
// lock address and user stack, as log2 histograms, from the futex
// syscall's enter and exit tracepoints (libbpf-tools' tool).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <pybcc/tool.h>
#include <pybcc/stacks.h>

#define MAX_SLOTS 40
#define TASK_COMM_LEN 16
#define FUTEX_WAIT 0
#define FUTEX_PRIVATE_FLAG 128
#define FUTEX_CLOCK_REALTIME 256
#define FUTEX_CMD_MASK ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME)

const volatile bool targ_summary = false;   // -s: per process, no stacks
const volatile bool targ_ms = false;
const volatile u64 targ_lock = 0;
const volatile u32 targ_pid = 0;
const volatile u32 targ_tid = 0;

struct wait {
    u64 ts;
    u64 uaddr;
};

struct hist_key {
    u64 pid_tgid;       // with -s: the tgid
    u64 uaddr;
    s64 user_stack_id;
};

struct hist {
    u32 slots[MAX_SLOTS];
    char comm[TASK_COMM_LEN];
    u64 contended;
    u64 total_elapsed;
    u64 min;
    u64 max;
};

HASH_MAP(start, u64, struct wait, 10240);


HASH_MAP(hists, struct hist_key, struct hist, 10240);

SEC("tracepoint/syscalls/sys_enter_futex")
int futex_enter(struct trace_event_raw_sys_enter *ctx)
{
    u64 pid_tgid = bpf_get_current_pid_tgid();
    struct wait w = {};

    if (((int)ctx->args[1] & FUTEX_CMD_MASK) != FUTEX_WAIT)
        return 0;
    if (targ_pid && targ_pid != pid_tgid >> 32)
        return 0;
    if (targ_tid && targ_tid != (u32)pid_tgid)
        return 0;
    w.uaddr = ctx->args[0];
    if (targ_lock && targ_lock != w.uaddr)
        return 0;
    w.ts = bpf_ktime_get_ns();
    bpf_map_update_elem(&start, &pid_tgid, &w, BPF_ANY);
    return 0;
}

SEC("tracepoint/syscalls/sys_exit_futex")
int futex_exit(struct trace_event_raw_sys_exit *ctx)
{
    u64 pid_tgid = bpf_get_current_pid_tgid(), now = bpf_ktime_get_ns(), delta, min, max;
    struct hist_key key = {};
    struct hist zero = {}, *h;
    struct wait *w;
    u32 slot;

    w = bpf_map_lookup_elem(&start, &pid_tgid);
    if (!w)
        return 0;
    if (ctx->ret < 0 || now < w->ts)
        goto cleanup;           // woken by a signal, timed out, or not waiting
    delta = (now - w->ts) / (targ_ms ? 1000000 : 1000);
    key.pid_tgid = pid_tgid;
    key.uaddr = w->uaddr;
    if (targ_summary)
        key.pid_tgid >>= 32;
    else
        key.user_stack_id = bpf_get_stackid(ctx, &stack_traces, BPF_F_USER_STACK);
    h = map_lookup_or_init(&hists, &key, &zero);
    if (!h)
        goto cleanup;
    slot = log2_slot(delta);
    if (slot >= MAX_SLOTS)
        slot = MAX_SLOTS - 1;
    __sync_fetch_and_add(&h->slots[slot], 1);
    __sync_fetch_and_add(&h->contended, 1);
    __sync_fetch_and_add(&h->total_elapsed, delta);
    min = h->min;
    if (!min || delta < min)
        h->min = delta;
    max = h->max;
    if (delta > max)
        h->max = delta;
    bpf_get_current_comm(h->comm, sizeof(h->comm));
cleanup:
    bpf_map_delete_elem(&start, &pid_tgid);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
