// runqslower: one event for each run queue wait longer than min_us, from
// wakeup (or preemption while runnable) to the task's next switch-in.
// Each hook has a tp_btf and a raw_tp twin; task fields are read with CO-RE.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <pybcc/tool.h>
#include <pybcc/twins.h>
#include <pybcc/task.h>

#define TASK_RUNNING 0

struct event {
    u32 pid;
    u32 prev_pid;
    char task[16];
    char prev_task[16];
    u64 delta_us;
};
PYBCC_RECORD(event);

const volatile u64 min_us = 10000;
const volatile u32 targ_tgid = 0;
const volatile u32 targ_pid = 0;

HASH_MAP(start, u32, u64, 10240);

static __always_inline int enqueue(struct task_struct *p)
{
    u32 tgid = BPF_CORE_READ(p, tgid), pid = BPF_CORE_READ(p, pid);
    u64 ts;

    if (pid == 0 || (targ_tgid && tgid != targ_tgid) || (targ_pid && pid != targ_pid))
        return 0;
    ts = bpf_ktime_get_ns();
    bpf_map_update_elem(&start, &pid, &ts, BPF_ANY);
    return 0;
}

static __always_inline int on_switch(void *ctx, struct task_struct *prev, struct task_struct *next)
{
    struct event e = {};
    u32 pid;
    u64 *tsp, delta_us;

    // preempted while runnable: it waits on the run queue from now
    if (task_state(prev) == TASK_RUNNING)
        enqueue(prev);

    pid = BPF_CORE_READ(next, pid);
    tsp = bpf_map_lookup_elem(&start, &pid);
    if (!tsp)
        return 0;       // enqueued before we started, or filtered out
    delta_us = (bpf_ktime_get_ns() - *tsp) / 1000;
    bpf_map_delete_elem(&start, &pid);
    if ((s64)delta_us < 0 || delta_us <= min_us)
        return 0;
    e.pid = pid;
    e.prev_pid = BPF_CORE_READ(prev, pid);
    e.delta_us = delta_us;
    BPF_CORE_READ_STR_INTO(&e.task, next, comm);
    BPF_CORE_READ_STR_INTO(&e.prev_task, prev, comm);
    emit_event(ctx, &e, sizeof(e));
    return 0;
}

BTF_RAW_TP(wakeup, sched_wakeup, enqueue((struct task_struct *)ctx[0]))
BTF_RAW_TP(wakeup_new, sched_wakeup_new, enqueue((struct task_struct *)ctx[0]))

/* sched_switch(bool preempt, struct task_struct *prev, struct task_struct *next, ...) */
BTF_RAW_TP(switch, sched_switch,
           on_switch(ctx, (struct task_struct *)ctx[1], (struct task_struct *)ctx[2]))

char LICENSE[] SEC("license") = "GPL";
