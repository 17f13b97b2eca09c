// compactsnoop: one event per zone compaction, from the compaction
// tracepoints (as bcc's, which has them too): mm_compaction_suitable (the
// zone and order, when compaction goes ahead), mm_compaction_begin (sync
// or async, the start time) and mm_compaction_end (the result), all in the
// compacting task. Whole-zone compactions (/proc/sys/vm/compact_memory,
// proactive: order -1) have no suitability check; they start at begin.
// -e: the zone's watermarks and free pages at the check, and its free
// blocks per order, from which user space works out fragmentation_index()
// (bcc's kretprobe).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <pybcc/tool.h>
#include <pybcc/twins.h>
#define STACK_STORAGE_SIZE 2048
#include <pybcc/stacks.h>

#define MAX_ORDERS 16

const volatile u32 targ_tgid = 0;
const volatile bool extended = false;
const volatile bool kernel_stack = false;

struct zone_info {
    s32 nid;
    s32 order;
    char zone[16];
    u64 min, low, high, free;
    u32 norders;
    u32 pad;
    u64 nr_free[MAX_ORDERS];
};

struct started {
    struct zone_info z;
    u64 ts;
    u32 sync;
    u32 checked;     // the suitability check came first (else order -1)
};

struct event {
    struct zone_info z;
    u64 ts;          // usecs
    u64 delta;       // ns
    u32 pid;
    u32 tid;
    s32 status;
    u32 sync;
    s32 kstack;
    char comm[16];
};
PYBCC_RECORD(event);

HASH_MAP(start, u64, struct started, 1024);

DEFINE_SCRATCH(struct started, scratch_start);
DEFINE_SCRATCH(struct event, scratch_event);

struct zone___numa {
    int node;
} __attribute__((preserve_access_index));

static __always_inline bool wanted(u64 id)
{
    return !targ_tgid || (id >> 32) == targ_tgid;
}

static __always_inline void zone_state(struct zone *zone, struct zone_info *z)
{
    u32 free_item = bpf_core_enum_value(enum zone_stat_item, NR_FREE_PAGES);
    u64 boost = BPF_CORE_READ(zone, watermark_boost);
    u64 area_size = bpf_core_type_size(struct free_area);
    void *areas = (void *)zone + bpf_core_field_offset(struct zone, free_area);
    u32 norders = bpf_core_field_size(struct zone, free_area) / area_size;

    z->min = BPF_CORE_READ(zone, _watermark[0]) + boost;
    z->low = BPF_CORE_READ(zone, _watermark[1]) + boost;
    z->high = BPF_CORE_READ(zone, _watermark[2]) + boost;
    bpf_probe_read_kernel(&z->free, sizeof(z->free), &zone->vm_stat[free_item & 63]);
    z->norders = norders < MAX_ORDERS ? norders : MAX_ORDERS;
    for (int o = 0; o < MAX_ORDERS; o++) {
        if (o >= z->norders)
            break;
        bpf_probe_read_kernel(&z->nr_free[o], sizeof(u64), areas + o * area_size +
                              bpf_core_field_offset(struct free_area, nr_free));
    }
}

static __always_inline int on_suitable(struct zone *zone, int order, int ret)
{
    u64 id = bpf_get_current_pid_tgid();
    struct zone___numa *numa = (void *)zone;
    struct started *s;

    if (ret != bpf_core_enum_value(enum compact_result, COMPACT_CONTINUE) || !wanted(id))
        return 0;
    s = scratch(&scratch_start);
    if (!s)
        return 0;
    __builtin_memset(s, 0, sizeof(*s));
    s->checked = 1;
    s->z.order = order;
    if (bpf_core_field_exists(numa->node))
        s->z.nid = BPF_CORE_READ(numa, node);
    bpf_probe_read_kernel_str(&s->z.zone, sizeof(s->z.zone), BPF_CORE_READ(zone, name));
    if (extended)
        zone_state(zone, &s->z);
    bpf_map_update_elem(&start, &id, s, BPF_ANY);
    return 0;
}

BTF_RAW_TP(suitable, mm_compaction_suitable,
           on_suitable((struct zone *)ctx[0], (int)ctx[1], (int)ctx[2]))

SEC("tracepoint/compaction/mm_compaction_begin")
int compaction_begin(struct trace_event_raw_mm_compaction_begin *ctx)
{
    u64 id = bpf_get_current_pid_tgid();
    struct started *s;

    if (!wanted(id))
        return 0;
    s = bpf_map_lookup_elem(&start, &id);
    if (!s || !s->checked) {
        /* a whole-zone compaction: no zone pointer here, nid and zone unknown */
        s = scratch(&scratch_start);
        if (!s)
            return 0;
        __builtin_memset(s, 0, sizeof(*s));
        s->z.nid = -1;
        s->z.order = -1;
    }
    s->checked = 0;
    s->ts = bpf_ktime_get_ns();
    s->sync = ctx->sync;
    bpf_map_update_elem(&start, &id, s, BPF_ANY);
    return 0;
}

SEC("tracepoint/compaction/mm_compaction_end")
int compaction_end(struct trace_event_raw_mm_compaction_end *ctx)
{
    u64 id = bpf_get_current_pid_tgid(), now = bpf_ktime_get_ns();
    struct started *s = bpf_map_lookup_elem(&start, &id);
    struct event *e;

    if (!s || !s->ts)
        return 0;
    e = scratch(&scratch_event);
    if (!e)
        return 0;
    e->z = s->z;
    e->ts = now / 1000;
    e->delta = now - s->ts;
    e->pid = id >> 32;
    e->tid = id;
    e->status = ctx->status;
    e->sync = s->sync;
    e->kstack = kernel_stack ? bpf_get_stackid(ctx, &stack_traces, 0) : -1;
    bpf_get_current_comm(&e->comm, sizeof(e->comm));
    emit_event(ctx, e, sizeof(*e));
    bpf_map_delete_elem(&start, &id);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
