// cpudist: on-CPU (or, with targ_offcpu, off-CPU) time per task as log2
// histograms, from sched_switch (tp_btf, else raw_tp).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <pybcc/tool.h>
#include <pybcc/twins.h>
#include <pybcc/counts.h>
#include <pybcc/extension.h>

struct start_key {
    u32 pid;
    u32 cpu;        // only for pid 0: each CPU has its own idle task
};

struct hist_key {
    u64 id;
    u64 slot;
};

enum { KEY_NONE, KEY_PID, KEY_TID };

const volatile bool targ_offcpu = false;
const volatile bool targ_ms = false;
const volatile bool include_idle = false;
const volatile u32 targ_tgid = 0;
const volatile int key_mode = KEY_NONE;

HASH_MAP(start, struct start_key, u64, 65536);

HASH_MAP(hists, struct hist_key, u64, 65536);

static __always_inline bool skip(u32 tgid, u32 pid)
{
    if (targ_tgid && tgid != targ_tgid)
        return true;
    return pid == 0 && !include_idle;
}

static __always_inline void start_key(struct start_key *k, u32 pid, u32 cpu)
{
    k->pid = pid;
    k->cpu = pid ? 0 : cpu;
}

static __always_inline void store_start(u32 tgid, u32 pid, u32 cpu, u64 ts)
{
    struct start_key k;

    if (skip(tgid, pid))
        return;
    start_key(&k, pid, cpu);
    bpf_map_update_elem(&start, &k, &ts, BPF_ANY);
}

static __always_inline void update_hist(u32 tgid, u32 pid, u32 cpu, u64 ts)
{
    struct hist_key key = {};
    struct start_key k;
    u64 *tsp, delta;

    if (skip(tgid, pid))
        return;
    start_key(&k, pid, cpu);
    tsp = bpf_map_lookup_elem(&start, &k);
    if (!tsp || ts < *tsp)
        return;
    delta = (ts - *tsp) / (targ_ms ? 1000000 : 1000);
    key.slot = log2_slot(delta);
    if (key_mode == KEY_PID)
        key.id = tgid;
    else if (key_mode == KEY_TID)
        key.id = pid;
    map_add(&hists, &key, 1);
    extension_add(delta);
}

static __always_inline int on_switch(struct task_struct *prev, struct task_struct *next)
{
    u64 ts = bpf_ktime_get_ns();
    u32 cpu = bpf_get_smp_processor_id();
    u32 ptgid = BPF_CORE_READ(prev, tgid), ppid = BPF_CORE_READ(prev, pid);
    u32 ntgid = BPF_CORE_READ(next, tgid), npid = BPF_CORE_READ(next, pid);

    if (targ_offcpu) {
        store_start(ptgid, ppid, cpu, ts);      // prev leaves the CPU
        update_hist(ntgid, npid, cpu, ts);      // next's time away ends
    } else {
        update_hist(ptgid, ppid, cpu, ts);      // prev's time on the CPU ends
        store_start(ntgid, npid, cpu, ts);
    }
    return 0;
}

BTF_RAW_TP(switch, sched_switch,
           on_switch((struct task_struct *)ctx[1], (struct task_struct *)ctx[2]))

char LICENSE[] SEC("license") = "GPL";
