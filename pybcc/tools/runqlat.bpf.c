// runqlat: run queue latency, from wakeup (or involuntary switch-out while
// runnable) to the task's next switch-in, as log2 histograms.
// Each hook has a tp_btf and a raw_tp twin; task fields are read with CO-RE.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <pybcc/tool.h>
#include <pybcc/twins.h>
#include <pybcc/counts.h>
#include <pybcc/task.h>

#define TASK_RUNNING 0

struct hist_key {
    u32 id;         // tgid, tid or pid namespace inode, by mode
    u32 pad;
    u64 slot;
};

enum { KEY_NONE, KEY_PID, KEY_TID, KEY_PIDNS };

const volatile bool targ_ms = false;
const volatile u32 targ_tgid = 0;
const volatile int key_mode = KEY_NONE;

HASH_MAP(start, u32, u64, 10240);

HASH_MAP(hists, struct hist_key, u64, 10240);

static __always_inline u32 pidns_of(struct task_struct *t)
{
    struct pid *pid = BPF_CORE_READ(t, thread_pid);
    unsigned int level = BPF_CORE_READ(pid, level);

    return BPF_CORE_READ(pid, numbers[level].ns, ns.inum);
}

static __always_inline bool skip(u32 tgid, u32 pid)
{
    return pid == 0 || (targ_tgid && tgid != targ_tgid);
}

static __always_inline int enqueue(struct task_struct *p)
{
    u32 tgid = BPF_CORE_READ(p, tgid), pid = BPF_CORE_READ(p, pid);
    u64 ts;

    if (skip(tgid, pid))
        return 0;
    ts = bpf_ktime_get_ns();
    bpf_map_update_elem(&start, &pid, &ts, BPF_ANY);
    return 0;
}

static __always_inline int on_switch(struct task_struct *prev, struct task_struct *next)
{
    struct hist_key key = {};
    u32 tgid, pid;
    u64 delta;

    // preempted while runnable: it waits on the run queue from now
    if (task_state(prev) == TASK_RUNNING)
        enqueue(prev);

    tgid = BPF_CORE_READ(next, tgid);
    pid = BPF_CORE_READ(next, pid);
    if (skip(tgid, pid))
        return 0;
    if (!take_elapsed(&start, &pid, targ_ms, &delta))
        return 0;       // enqueued before we started
    key.slot = log2_slot(delta);
    if (key_mode == KEY_PID)
        key.id = tgid;
    else if (key_mode == KEY_TID)
        key.id = pid;
    else if (key_mode == KEY_PIDNS)
        key.id = pidns_of(next);
    map_add(&hists, &key, 1);
    return 0;
}

BTF_RAW_TP(wakeup, sched_wakeup, enqueue((struct task_struct *)ctx[0]))
BTF_RAW_TP(wakeup_new, sched_wakeup_new, enqueue((struct task_struct *)ctx[0]))

/* sched_switch(bool preempt, struct task_struct *prev, struct task_struct *next, ...) */
BTF_RAW_TP(switch, sched_switch,
           on_switch((struct task_struct *)ctx[1], (struct task_struct *)ctx[2]))

char LICENSE[] SEC("license") = "GPL";
