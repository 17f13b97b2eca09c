// wakeuptime: time from a thread blocking to its wake-up, summed by the
// waker's kernel stack and the two comms. The clock starts at sched_switch
// (in the thread that blocks) and stops at sched_waking, which runs in the
// waker, where its stack is taken.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <pybcc/tool.h>
#include <pybcc/twins.h>
#define STACK_STORAGE_SIZE 16384     // --stack-storage-size
#include <pybcc/stacks.h>
#include <pybcc/offcpu.h>

struct key_t {
    s32 waker_stack_id;
    char waker[16];
    char target[16];
};

STACK_COUNTS(struct key_t, 40960);

/* thread id → when it blocked */
HASH_MAP(start, u32, u64, 40960);

static __always_inline int on_switch(struct task_struct *prev)
{
    u64 now = bpf_ktime_get_ns();
    u32 pid;

    if (!thread_wanted(prev))
        return 0;
    pid = BPF_CORE_READ(prev, pid);
    if (bpf_map_update_elem(&start, &pid, &now, BPF_ANY))
        problem(PROBLEM_FULL);
    return 0;
}

static __always_inline int on_waking(void *ctx, struct task_struct *p)
{
    struct key_t key = {};
    u64 *tsp, now = bpf_ktime_get_ns(), delta;
    u32 pid = BPF_CORE_READ(p, pid);

    tsp = bpf_map_lookup_elem(&start, &pid);
    if (!tsp)
        return 0;       // blocked before tracing began, or not traced
    if (*tsp > now) {
        problem(PROBLEM_NEGATIVE);
        bpf_map_delete_elem(&start, &pid);
        return 0;
    }
    delta = block_us(now - *tsp);
    bpf_map_delete_elem(&start, &pid);
    if (!delta)
        return 0;
    key.waker_stack_id = bpf_get_stackid(ctx, &stack_traces, 0);
    BPF_CORE_READ_STR_INTO(&key.target, p, comm);
    bpf_get_current_comm(&key.waker, sizeof(key.waker));
    if (!map_add(&counts, &key, delta))
        problem(PROBLEM_FULL);
    return 0;
}

BTF_RAW_TP(switch, sched_switch, on_switch((struct task_struct *)ctx[1]))
BTF_RAW_TP(waking, sched_waking, on_waking(ctx, (struct task_struct *)ctx[0]))

char LICENSE[] SEC("license") = "GPL";
