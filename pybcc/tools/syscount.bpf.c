// syscount: count syscalls (and their time) per syscall or per process,
// from the raw_syscalls tracepoints. Counting happens at exit, where the
// result is known; sys_enter runs only to time the call (-L).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <pybcc/maps.h>

struct value {
    u64 count;
    u64 total_ns;
    char comm[16];
};

const volatile u32 targ_pid = 0;
const volatile u32 targ_tid = 0;
const volatile u32 targ_ppid = 0;
const volatile s32 targ_syscall = -1;
const volatile bool failures_only = false;
const volatile s32 targ_errno = 0;
const volatile bool latency = false;
const volatile bool by_process = false;

HASH_MAP(start, u64, u64, 10240);

HASH_MAP(data, u32, struct value, 10240);

static __always_inline bool filtered(u64 id, long nr)
{
    if (targ_syscall >= 0 && nr != targ_syscall)
        return true;
    if (targ_pid && (id >> 32) != targ_pid)
        return true;
    if (targ_tid && (u32)id != targ_tid)
        return true;
    if (targ_ppid) {
        struct task_struct *task = (void *)bpf_get_current_task();
        if (BPF_CORE_READ(task, real_parent, tgid) != targ_ppid)
            return true;
    }
    return false;
}

SEC("tracepoint/raw_syscalls/sys_enter")
int sys_enter(struct trace_event_raw_sys_enter *ctx)
{
    u64 id = bpf_get_current_pid_tgid();
    u64 ts;

    if (filtered(id, ctx->id))
        return 0;
    ts = bpf_ktime_get_ns();
    bpf_map_update_elem(&start, &id, &ts, BPF_ANY);
    return 0;
}

SEC("tracepoint/raw_syscalls/sys_exit")
int sys_exit(struct trace_event_raw_sys_exit *ctx)
{
    u64 id = bpf_get_current_pid_tgid();
    u64 *start_ns = NULL, delta = 0;
    struct value *val;
    u32 key;

    if (filtered(id, ctx->id))
        return 0;
    if (failures_only && ctx->ret >= 0)
        return 0;
    if (targ_errno && ctx->ret != -targ_errno)
        return 0;
    if (latency) {
        start_ns = bpf_map_lookup_elem(&start, &id);
        if (!start_ns)
            return 0;
        delta = bpf_ktime_get_ns() - *start_ns;
        bpf_map_delete_elem(&start, &id);
    }
    key = by_process ? id >> 32 : (u32)ctx->id;
    val = bpf_map_lookup_elem(&data, &key);
    if (!val) {
        struct value zero = {};
        if (by_process)
            bpf_get_current_comm(zero.comm, sizeof(zero.comm));
        val = map_lookup_or_init(&data, &key, &zero);
        if (!val)
            return 0;
    }
    __sync_fetch_and_add(&val->count, 1);
    if (latency)
        __sync_fetch_and_add(&val->total_ns, delta);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
