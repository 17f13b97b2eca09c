// numamove: NUMA misplaced page migrations and the time they took, summed
// in the kernel (libbpf-tools' tool). Where kprobes or fentry exist,
// libbpf-tools' migrate_misplaced_folio()/_page() entry and return; elsewhere
// the migrate:mm_migrate_pages_start/mm_migrate_pages tracepoints with reason
// MR_NUMA_MISPLACED, the migrate_pages() call inside it.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <pybcc/maps.h>

enum { STAT_NUM, STAT_LATENCY_MS, NSTATS };

/* The reason counted: MR_NUMA_MISPLACED unless set (tests use another). */
const volatile s32 targ_reason = -1;

HASH_MAP(start, u32, u64, 10240);

ARRAY_MAP(stats, u32, u64, NSTATS);

static __always_inline void add(u32 idx, u64 n)
{
    u64 *v = bpf_map_lookup_elem(&stats, &idx);

    if (v)
        __sync_fetch_and_add(v, n);
}

static __always_inline int migrate_start(void)
{
    u32 tid = bpf_get_current_pid_tgid();
    u64 ts = bpf_ktime_get_ns();

    bpf_map_update_elem(&start, &tid, &ts, BPF_ANY);
    return 0;
}

static __always_inline int migrate_done(void)
{
    u32 tid = bpf_get_current_pid_tgid();
    u64 *tsp = bpf_map_lookup_elem(&start, &tid);
    s64 delta;

    if (!tsp)
        return 0;
    delta = bpf_ktime_get_ns() - *tsp;
    bpf_map_delete_elem(&start, &tid);
    if (delta < 0)
        return 0;
    add(STAT_NUM, 1);
    add(STAT_LATENCY_MS, delta / 1000000);
    return 0;
}

static __always_inline bool counted(int reason)
{
    int want = targ_reason >= 0 ? targ_reason
                                : bpf_core_enum_value(enum migrate_reason, MR_NUMA_MISPLACED);
    return reason == want;
}

SEC("tracepoint/migrate/mm_migrate_pages_start")
int pages_start(struct trace_event_raw_mm_migrate_pages_start *ctx)
{
    return counted(ctx->reason) ? migrate_start() : 0;
}

SEC("tracepoint/migrate/mm_migrate_pages")
int pages_done(struct trace_event_raw_mm_migrate_pages *ctx)
{
    return counted(ctx->reason) ? migrate_done() : 0;
}

SEC("fentry/migrate_misplaced_folio")
int BPF_PROG(folio_fentry) { return migrate_start(); }
SEC("fexit/migrate_misplaced_folio")
int BPF_PROG(folio_fexit) { return migrate_done(); }
SEC("fentry/migrate_misplaced_page")
int BPF_PROG(page_fentry) { return migrate_start(); }
SEC("fexit/migrate_misplaced_page")
int BPF_PROG(page_fexit) { return migrate_done(); }
SEC("kprobe")
int BPF_KPROBE(misplaced_kprobe) { return migrate_start(); }
SEC("kretprobe")
int BPF_KRETPROBE(misplaced_kretprobe) { return migrate_done(); }

char LICENSE[] SEC("license") = "GPL";
