// Page cache accesses and misses. A miss adds a folio to the page cache
// (filemap:mm_filemap_add_to_page_cache); every access marks one accessed,
// which has no tracepoint: fentry on folio_mark_accessed, or a kprobe.
// hits = accesses - misses, as bcc's cachestat computes them.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <pybcc/twins.h>
#include <exporter/metrics.h>

enum { ACCESSES, MISSES, DIRTIED, COUNTERS };

METRIC_MAP(pages, u32, u64, COUNTERS);

static __always_inline int count(u32 what)
{
    counter_add(&pages, &what, 1);
    return 0;
}

SEC("fentry/folio_mark_accessed")
int BPF_PROG(accessed_fentry)
{
    return count(ACCESSES);
}

SEC("kprobe/folio_mark_accessed")
int accessed_kprobe(void *ctx)
{
    return count(ACCESSES);
}

BTF_RAW_TP(added, mm_filemap_add_to_page_cache, count(MISSES))
BTF_RAW_TP(dirtied, writeback_dirty_folio, count(DIRTIED))

char LICENSE[] SEC("license") = "GPL";
