// numasched: a task that runs on another NUMA node than the last time it
// was switched out. sched_switch runs in the task leaving the CPU.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <pybcc/tool.h>
#include <pybcc/twins.h>
#include <pybcc/names.h>

struct event {
    char comm[16];
    u32 pid;
    u32 tid;
    u32 old_nid;
    u32 new_nid;
};
PYBCC_RECORD(event);

const volatile u32 targ_tgid = 0;
const volatile u32 targ_tid = 0;
const volatile char targ_comm[16] = {};

/* thread id → the node it last ran on */
HASH_MAP(last_node, u32, u32, 10240);

static __always_inline bool comm_wanted(const char *comm)
{
    return !targ_comm[0] || name_equal(comm, targ_comm, sizeof(targ_comm));
}

static __always_inline int on_switch(void *ctx)
{
    u64 id = bpf_get_current_pid_tgid();
    u32 tgid = id >> 32, tid = (u32)id, node = bpf_get_numa_node_id(), *last;
    struct event e = {};

    if (tid == 0 || (targ_tgid && tgid != targ_tgid) || (targ_tid && tid != targ_tid))
        return 0;
    last = bpf_map_lookup_elem(&last_node, &tid);
    if (last && *last != node) {
        bpf_get_current_comm(&e.comm, sizeof(e.comm));
        if (comm_wanted(e.comm)) {
            e.pid = tgid;
            e.tid = tid;
            e.old_nid = *last;
            e.new_nid = node;
            emit_event(ctx, &e, sizeof(e));
        }
    }
    bpf_map_update_elem(&last_node, &tid, &node, BPF_ANY);
    return 0;
}

BTF_RAW_TP(switch, sched_switch, on_switch(ctx))

char LICENSE[] SEC("license") = "GPL";
