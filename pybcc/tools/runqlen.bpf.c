// runqlen: sample each CPU's run queue length (a software cpu-clock perf
// event), read from the CPU's struct rq, found through the current task's
// cfs_rq with CO-RE.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <pybcc/tool.h>

#define MAX_SLOT 1024

struct key_t {
    u32 cpu;
    u32 slot;
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 65536);
    __type(key, struct key_t);
    __type(value, u64);
} dist SEC(".maps");

/* The CPU's run queue: the current task's cfs_rq points back to it when
 * group scheduling is built in; otherwise the cfs_rq is the one inside it. */
static __always_inline struct rq *this_rq(struct task_struct *task)
{
    struct cfs_rq *cfs = BPF_CORE_READ(task, se.cfs_rq);

    if (!cfs)
        return NULL;
    if (bpf_core_field_exists(cfs->rq))
        return BPF_CORE_READ(cfs, rq);
    return (void *)cfs - bpf_core_field_offset(struct rq, cfs);
}

/* Count every runnable task of the CPU (rq->nr_running), not the task's
 * own group's cfs_rq: with autogroup or cgroups that holds only the tasks of
 * the current task's group, and a busy CPU would read as idle. */
SEC("perf_event")
int do_sample(void *ctx)
{
    struct rq *rq = this_rq((void *)bpf_get_current_task());
    struct key_t key = {};
    u64 one = 1, *n;
    u32 len = rq ? BPF_CORE_READ(rq, nr_running) : 0;

    // the running task is counted too: 0 is idle, 1 one task running
    if (len > 0)
        len--;
    key.cpu = bpf_get_smp_processor_id();
    key.slot = len < MAX_SLOT ? len : MAX_SLOT;
    n = bpf_map_lookup_elem(&dist, &key);
    if (n)
        __sync_fetch_and_add(n, 1);
    else if (bpf_map_update_elem(&dist, &key, &one, BPF_NOEXIST))
        if ((n = bpf_map_lookup_elem(&dist, &key)))
            __sync_fetch_and_add(n, 1);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
