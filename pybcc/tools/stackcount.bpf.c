// stackcount: count the stacks that lead to an event (kprobe, uprobe,
// USDT probe or tracepoint); one program per probe kind, all sharing the body.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <pybcc/tool.h>
#include <pybcc/stacks.h>

struct key_t {
    u32 tgid;           // 0xffffffff unless per process
    s32 kernel_stack_id;
    s32 user_stack_id;
    char name[16];
};

const volatile bool per_pid = false;
const volatile u32 targ_tgid = 0;
const volatile s32 targ_cpu = -1;

STACK_COUNTS(struct key_t, 10240);

PERCPU_ARRAY_MAP(dropped, u32, u64, 1);

static __always_inline int count(void *ctx)
{
    u32 tgid = bpf_get_current_pid_tgid() >> 32, zero = 0;
    struct key_t key = {};
    u64 *n;

    if (targ_tgid && tgid != targ_tgid)
        return 0;
    if (targ_cpu >= 0 && bpf_get_smp_processor_id() != (u32)targ_cpu)
        return 0;
    key.tgid = 0xffffffff;
    if (per_pid) {
        key.tgid = tgid;
        bpf_get_current_comm(&key.name, sizeof(key.name));
    }
    get_stack_ids(ctx, &key.user_stack_id, &key.kernel_stack_id);

    if (!map_add(&counts, &key, 1) && (n = bpf_map_lookup_elem(&dropped, &zero)))
        *n += 1;    // counts is full
    return 0;
}

SEC("kprobe")
int count_kprobe(void *ctx)
{
    return count(ctx);
}

SEC("uprobe")
int count_uprobe(void *ctx)
{
    return count(ctx);
}

SEC("tracepoint")
int count_tracepoint(void *ctx)
{
    return count(ctx);
}

char LICENSE[] SEC("license") = "GPL";
