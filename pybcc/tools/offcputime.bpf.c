// offcputime and offwaketime: time spent blocked (off-CPU), summed by stack
// trace, and for offwaketime also by the stack of the task that woke it.
// sched_switch runs in the task that is leaving the CPU, so its stacks are
// taken there (where it blocks) and kept until the task is switched back in.
// sched_waking runs in the waker (sched_wakeup may run on the wakee's CPU,
// from an IPI), so the waker's stacks are taken there.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <pybcc/tool.h>
#include <pybcc/twins.h>
#include <pybcc/stacks.h>
#include <pybcc/offcpu.h>

const volatile bool track_wakers = false;       // offwaketime

/* A thread and where it was: the one that blocked, or the one that woke it. */
struct who_t {
    u32 pid;
    u32 tgid;
    s32 user_stack_id;
    s32 kernel_stack_id;
    char name[16];
};

struct key_t {
    struct who_t target;
    struct who_t waker;     // offwaketime only (zero when the waker was missed)
};

struct start_t {
    u64 ts;
    struct key_t key;
};

STACK_COUNTS(struct key_t, 40960);

HASH_MAP(start, u32, struct start_t, 40960);

/* thread id → who woke it, until it runs again */
HASH_MAP(wokeby, u32, struct who_t, 40960);

/* The current task and its stacks. */
static __always_inline void current_who(void *ctx, struct who_t *who)
{
    u64 id = bpf_get_current_pid_tgid();

    who->pid = (u32)id;
    who->tgid = id >> 32;
    get_stack_ids(ctx, &who->user_stack_id, &who->kernel_stack_id);
    bpf_get_current_comm(&who->name, sizeof(who->name));
}

static __always_inline int on_switch(void *ctx, struct task_struct *prev, struct task_struct *next)
{
    struct start_t *s, st = {};
    struct who_t *waker;
    struct key_t key;
    u64 now = bpf_ktime_get_ns(), delta;
    u32 pid;

    // prev (the current task) blocks here: remember when and where
    if (thread_wanted(prev)) {
        st.ts = now;
        current_who(ctx, &st.key.target);
        if (bpf_map_update_elem(&start, &st.key.target.pid, &st, BPF_ANY))
            problem(PROBLEM_FULL);
    }

    // next runs again: its time off the CPU ends
    pid = BPF_CORE_READ(next, pid);
    s = bpf_map_lookup_elem(&start, &pid);
    if (!s)
        return 0;
    if (s->ts > now) {
        problem(PROBLEM_NEGATIVE);
        bpf_map_delete_elem(&start, &pid);
        return 0;
    }
    delta = block_us(now - s->ts);
    key = s->key;
    bpf_map_delete_elem(&start, &pid);
    if (track_wakers) {
        waker = bpf_map_lookup_elem(&wokeby, &pid);
        if (waker) {
            key.waker = *waker;
            bpf_map_delete_elem(&wokeby, &pid);
        }
    }
    if (delta && !map_add(&counts, &key, delta))
        problem(PROBLEM_FULL);
    return 0;
}

static __always_inline int on_waking(void *ctx, struct task_struct *p)
{
    struct who_t waker = {};
    u32 pid;

    if (!track_wakers || !thread_wanted(p))
        return 0;
    pid = BPF_CORE_READ(p, pid);
    current_who(ctx, &waker);
    if (bpf_map_update_elem(&wokeby, &pid, &waker, BPF_ANY))
        problem(PROBLEM_FULL);
    return 0;
}

BTF_RAW_TP(switch, sched_switch,
           on_switch(ctx, (struct task_struct *)ctx[1], (struct task_struct *)ctx[2]))
BTF_RAW_TP(waking, sched_waking, on_waking(ctx, (struct task_struct *)ctx[0]))

char LICENSE[] SEC("license") = "GPL";
