// wqlat: how long work waits on a workqueue, from workqueue_queue_work to
// workqueue_execute_start (keyed by the work item's address), as log2
// histograms, one per workqueue with -W.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <pybcc/tool.h>
#include <pybcc/counts.h>
#include <pybcc/names.h>

#define WQ_NAME_LEN 24

struct start_val {
    u64 ts;
    char name[WQ_NAME_LEN];
};

struct hist_key {
    char name[WQ_NAME_LEN];     /* "" unless per_workqueue */
    u64 slot;
};

const volatile u64 factor = 1000;           /* ns per unit: usecs, or 1 for -N */
const volatile bool per_workqueue = false;
const volatile char targ_wqname[WQ_NAME_LEN] = {};  /* "": every workqueue */

HASH_MAP(start, u64, struct start_val, 10240);

HASH_MAP(hists, struct hist_key, u64, 1024);

static __always_inline bool name_wanted(const char *name)
{
    return !targ_wqname[0] || name_equal(name, targ_wqname, WQ_NAME_LEN);
}

SEC("tracepoint/workqueue/workqueue_queue_work")
int queue_work(struct trace_event_raw_workqueue_queue_work *ctx)
{
    struct start_val val = {};
    u64 work = (u64)ctx->work;
    /* __data_loc: the low 16 bits are the string's offset in the record */
    u32 loc = ctx->__data_loc_workqueue & 0xffff;

    bpf_probe_read_kernel_str(val.name, sizeof(val.name), (void *)ctx + loc);
    if (!name_wanted(val.name))
        return 0;
    val.ts = bpf_ktime_get_ns();
    bpf_map_update_elem(&start, &work, &val, BPF_ANY);
    return 0;
}

SEC("tracepoint/workqueue/workqueue_execute_start")
int execute_start(struct trace_event_raw_workqueue_execute_start *ctx)
{
    u64 work = (u64)ctx->work;
    struct start_val *val = bpf_map_lookup_elem(&start, &work);
    struct hist_key key = {};
    u64 delta;

    if (!val)
        return 0;       // queued before we started, or filtered out
    delta = (bpf_ktime_get_ns() - val->ts) / factor;
    if (per_workqueue)
        __builtin_memcpy(key.name, val->name, sizeof(key.name));
    key.slot = log2_slot(delta);
    map_add(&hists, &key, 1);
    bpf_map_delete_elem(&start, &work);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
