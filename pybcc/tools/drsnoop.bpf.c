// drsnoop: direct reclaim latency per call, from the vmscan tracepoints
// (mm_vmscan_direct_reclaim_begin/end, as bcc; with memcg set, also the
// reclaim a task does when its memory cgroup is at its limit).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <pybcc/tool.h>

struct start {
    u64 ts_ns;
    u64 free_pages;
};

struct event {
    u64 id;             // pid << 32 | tid
    u64 uid;
    u64 ts_us;
    u64 delta_ns;
    u64 nr_reclaimed;
    u64 free_pages;     // NR_FREE_PAGES when the reclaim began (-v)
    char comm[16];
};
PYBCC_RECORD(event);

const volatile u32 targ_pid = 0;
const volatile u32 targ_tid = 0;
const volatile u32 targ_uid = (u32)-1;
const volatile u64 vm_zone_stat_addr = 0;   // from /proc/kallsyms, for -v

HASH_MAP(starts, u64, struct start, 10240);

static __always_inline int begin(void)
{
    u64 id = bpf_get_current_pid_tgid();
    u32 uid = (u32)bpf_get_current_uid_gid();
    struct start s = {};

    if (targ_tid ? (u32)id != targ_tid : targ_pid && (id >> 32) != targ_pid)
        return 0;
    if (targ_uid != (u32)-1 && uid != targ_uid)
        return 0;
    s.ts_ns = bpf_ktime_get_ns();
    if (vm_zone_stat_addr)  // vm_zone_stat[NR_FREE_PAGES], NR_FREE_PAGES being 0
        bpf_probe_read_kernel(&s.free_pages, sizeof(s.free_pages), (void *)vm_zone_stat_addr);
    bpf_map_update_elem(&starts, &id, &s, BPF_ANY);
    return 0;
}

static __always_inline int end(void *ctx, u64 nr_reclaimed)
{
    u64 id = bpf_get_current_pid_tgid();
    struct start *s = bpf_map_lookup_elem(&starts, &id);
    struct event e = {};
    u64 now;

    if (!s)
        return 0;
    now = bpf_ktime_get_ns();
    e.id = id;
    e.uid = (u32)bpf_get_current_uid_gid();
    e.ts_us = now / 1000;
    e.delta_ns = now - s->ts_ns;
    e.nr_reclaimed = nr_reclaimed;
    e.free_pages = s->free_pages;
    bpf_get_current_comm(e.comm, sizeof(e.comm));
    bpf_map_delete_elem(&starts, &id);
    emit_event(ctx, &e, sizeof(e));
    return 0;
}

SEC("tracepoint/vmscan/mm_vmscan_direct_reclaim_begin")
int direct_begin(void *ctx) { return begin(); }

SEC("tracepoint/vmscan/mm_vmscan_direct_reclaim_end")
int direct_end(struct trace_event_raw_mm_vmscan_direct_reclaim_end_template *ctx)
{
    return end(ctx, ctx->nr_reclaimed);
}

SEC("tracepoint/vmscan/mm_vmscan_memcg_reclaim_begin")
int memcg_begin(void *ctx) { return begin(); }

SEC("tracepoint/vmscan/mm_vmscan_memcg_reclaim_end")
int memcg_end(struct trace_event_raw_mm_vmscan_direct_reclaim_end_template *ctx)
{
    return end(ctx, ctx->nr_reclaimed);
}

char LICENSE[] SEC("license") = "GPL";
