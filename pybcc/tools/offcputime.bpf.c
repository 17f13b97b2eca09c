// offcputime: time spent blocked (off-CPU), summed by stack trace.
// sched_switch runs in the task that is leaving the CPU, so its stacks are
// taken there (where it blocks) and kept until the task is switched back in.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <pybcc/tool.h>
#include <pybcc/twins.h>
#include <pybcc/stacks.h>
#include <pybcc/task.h>

#define PF_KTHREAD 0x00200000

struct key_t {
    u32 pid;
    u32 tgid;
    s32 user_stack_id;
    s32 kernel_stack_id;
    char name[16];
};

struct start_t {
    u64 ts;
    struct key_t key;
};

enum { THREADS_ALL, THREADS_TGID, THREADS_TID, THREADS_USER, THREADS_KERNEL };

const volatile int thread_mode = THREADS_ALL;
const volatile u32 targ_id = 0;
const volatile bool filter_state = false;
const volatile long targ_state = 0;
const volatile u64 min_block_us = 1;
const volatile u64 max_block_us = (u64)-1;

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 40960);
    __type(key, struct key_t);
    __type(value, u64);
} counts SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 40960);
    __type(key, u32);
    __type(value, struct start_t);
} start SEC(".maps");

/* [0] start times later than end times, [1] counts or start full */
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 2);
    __type(key, u32);
    __type(value, u64);
} problems SEC(".maps");

static __always_inline void problem(u32 which)
{
    u64 *n = bpf_map_lookup_elem(&problems, &which);

    if (n)
        *n += 1;
}

static __always_inline bool wanted(struct task_struct *t)
{
    u32 flags;
    long state;

    switch (thread_mode) {
    case THREADS_TGID:
        if (BPF_CORE_READ(t, tgid) != targ_id)
            return false;
        break;
    case THREADS_TID:
        if (BPF_CORE_READ(t, pid) != targ_id)
            return false;
        break;
    case THREADS_USER:
    case THREADS_KERNEL:
        flags = BPF_CORE_READ(t, flags);
        if (!(flags & PF_KTHREAD) != (thread_mode == THREADS_USER))
            return false;
        break;
    }
    if (filter_state) {
        state = task_state(t);
        return targ_state == 0 ? state == 0 : (state & targ_state) != 0;
    }
    return true;
}

static __always_inline int on_switch(void *ctx, struct task_struct *prev, struct task_struct *next)
{
    struct start_t *s, st = {};
    u64 now = bpf_ktime_get_ns(), delta;
    u32 pid;

    // prev (the current task) blocks here: remember when and where
    if (wanted(prev)) {
        st.ts = now;
        st.key.pid = BPF_CORE_READ(prev, pid);
        st.key.tgid = BPF_CORE_READ(prev, tgid);
        get_stack_ids(ctx, &st.key.user_stack_id, &st.key.kernel_stack_id);
        bpf_get_current_comm(&st.key.name, sizeof(st.key.name));
        if (bpf_map_update_elem(&start, &st.key.pid, &st, BPF_ANY))
            problem(1);
    }

    // next runs again: its time off the CPU ends
    pid = BPF_CORE_READ(next, pid);
    s = bpf_map_lookup_elem(&start, &pid);
    if (!s)
        return 0;
    if (s->ts > now) {
        problem(0);
        bpf_map_delete_elem(&start, &pid);
        return 0;
    }
    delta = (now - s->ts) / 1000;
    if (delta >= min_block_us && delta <= max_block_us && !map_add(&counts, &s->key, delta))
        problem(1);
    bpf_map_delete_elem(&start, &pid);
    return 0;
}

BTF_RAW_TP(switch, sched_switch,
           on_switch(ctx, (struct task_struct *)ctx[1], (struct task_struct *)ctx[2]))

char LICENSE[] SEC("license") = "GPL";
