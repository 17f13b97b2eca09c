// oomkill: one event per OOM kill. Where kprobes exist, oom_kill_process()
// gives the victim and the OOM context's total pages; elsewhere the
// oom:mark_victim tracepoint, which fires in the same task (the one that
// ran the OOM killer) but knows nothing of the OOM context (pages = 0).
// There, a memory cgroup OOM is told by the task's memory cgroup, or an
// ancestor, being at its limit: the event then carries that cgroup's limits
// and user space adds the swap part as mem_cgroup_get_max() does.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <pybcc/tool.h>

struct event {
    u32 fpid;
    u32 tpid;
    u64 pages;
    char fcomm[16];
    char tcomm[16];
    u64 memcg_max;          // pages; 0 when no memory cgroup is at its limit
    u64 memcg_swap_max;     // swap.max (v2) or memsw.max (v1), pages
    s32 memcg_swappiness;   // v1's per-cgroup value; -1 where v2 uses the system's
};
PYBCC_RECORD(event);

/* Set by user space: the memory controller is on a cgroup v1 hierarchy,
 * whose limit on memory + swap is memsw (do_memsw_account()). */
const volatile bool memsw_account = false;

#define MEMCG_DEPTH 16
#define COUNTER_UNLIMITED (1UL << 50)  /* PAGE_COUNTER_MAX is LONG_MAX / PAGE_SIZE */
#define CHARGE_MARGIN 512              /* the failed charge: up to a huge page */

/* Before Linux 6.x swap and memsw were separate counters. */
struct mem_cgroup___memsw {
    struct page_counter memsw;
} __attribute__((preserve_access_index));

static __always_inline bool at_limit(struct page_counter *c)
{
    u64 max = BPF_CORE_READ(c, max);

    return max < COUNTER_UNLIMITED &&
           (u64)BPF_CORE_READ(c, usage.counter) + CHARGE_MARGIN >= max;
}

/* The current task's memory cgroup, or the nearest ancestor, that is at
 * its limit: the one whose OOM this is. Its limits go into the event. */
static __always_inline void memcg_limits(struct event *e)
{
    struct task_struct *task = (void *)bpf_get_current_task();
    int id = bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id);
    struct cgroup_subsys_state *css = BPF_CORE_READ(task, cgroups, subsys[id]);

    for (int i = 0; i < MEMCG_DEPTH && css; i++) {
        struct mem_cgroup *memcg = (void *)css - bpf_core_field_offset(struct mem_cgroup, css);
        struct page_counter *swap = &memcg->swap;

        if (memsw_account)
            swap = &((struct mem_cgroup___memsw *)memcg)->memsw;
        if (at_limit(&memcg->memory) || (memsw_account && at_limit(swap))) {
            e->memcg_max = BPF_CORE_READ(memcg, memory.max);
            e->memcg_swap_max = BPF_CORE_READ(swap, max);
            e->memcg_swappiness = memsw_account ? BPF_CORE_READ(memcg, swappiness) : -1;
            return;
        }
        css = BPF_CORE_READ(css, parent);
    }
}

SEC("kprobe/oom_kill_process")
int BPF_KPROBE(oom_kill_process, struct oom_control *oc, const char *message)
{
    struct task_struct *p = BPF_CORE_READ(oc, chosen);
    struct event e = {};

    e.fpid = bpf_get_current_pid_tgid() >> 32;
    e.tpid = BPF_CORE_READ(p, tgid);
    e.pages = BPF_CORE_READ(oc, totalpages);
    bpf_get_current_comm(e.fcomm, sizeof(e.fcomm));
    BPF_CORE_READ_STR_INTO(&e.tcomm, p, comm);
    emit_event(ctx, &e, sizeof(e));
    return 0;
}

/* The record since Linux 6.3; older kernels have the pid alone. */
struct trace_event_raw_mark_victim___comm {
    int pid;
    u32 __data_loc_comm;
} __attribute__((preserve_access_index));

SEC("tracepoint/oom/mark_victim")
int mark_victim(struct trace_event_raw_mark_victim___comm *ctx)
{
    struct event e = {};

    e.fpid = bpf_get_current_pid_tgid() >> 32;
    e.tpid = ctx->pid;
    bpf_get_current_comm(e.fcomm, sizeof(e.fcomm));
    /* the victim's comm joined the event in Linux 6.3 */
    if (bpf_core_field_exists(ctx->__data_loc_comm)) {
        u32 loc = BPF_CORE_READ(ctx, __data_loc_comm);
        bpf_probe_read_kernel_str(e.tcomm, sizeof(e.tcomm), (void *)ctx + (loc & 0xFFFF));
    }
    memcg_limits(&e);
    emit_event(ctx, &e, sizeof(e));
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
