// readahead: how many pages read ahead were never used, and how long the
// used ones waited. Two sources:
//  - tracepoints (recent kernels; 6.18 has them): readahead:page_cache_ra_unbounded/ra_order give
//    the window a thread is reading ahead; filemap:mm_filemap_add_to_page_cache
//    in that window is a page (folio) read ahead, keyed by file and index;
//    filemap:mm_filemap_get_pages (read) and mm_filemap_map_pages (mmap
//    fault-around) are the accesses, by file and index range.
//  - kprobes (bcc's): the readahead function's entry/return marks the
//    thread, the page cache allocation's return in it is a page read ahead,
//    folio_mark_accessed/mark_page_accessed is the access, keyed by page.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <pybcc/tool.h>
#include <pybcc/percpu_counters.h>

#define MAX_SLOTS 64
#define MAX_SCAN 128        /* pages of one access looked up */

/* a page (the first of a folio) of a file, as the filemap tracepoints name it */
struct page_key {
    u64 ino;
    u64 index;
    u32 dev;
    u32 pad;
};

struct birth_t {
    u64 ts;
    u64 nr_pages;
};

struct window {
    u64 ino;
    u64 start;
    u64 end;        /* exclusive */
    u32 dev;
};

HASH_MAP(ra_window, u32, struct window, 10240);  /* thread id */

HASH_MAP(birth, struct page_key, struct birth_t, 65536);

/* kprobe path: threads in the readahead function, pages by address */
HASH_MAP(in_readahead, u32, u8, 10240);

HASH_MAP(birth_by_page, u64, u64, 65536);

/* [0]: pages read ahead and not yet used (may go below 0 within an interval) */
DEFINE_PERCPU_COUNTERS(pages, 1, s64);
DEFINE_PERCPU_COUNTERS(dist, MAX_SLOTS, u64);

static __always_inline void add_pages(s64 n)
{
    counter_add(&pages, 0, n);
}

/* ``n`` pages used ``age_ns`` after they were read ahead */
static __always_inline void used(u64 age_ns, u64 n)
{
    u32 slot = log2_slot(age_ns / 1000000);   /* bcc's bpf_log2l */

    counter_add(&dist, slot < MAX_SLOTS ? slot : MAX_SLOTS - 1, n);
    add_pages(-(s64)n);
}

/* --- tracepoints ---------------------------------------------------------- */

/* The events' records as recent kernels lay them out, declared here (CO-RE
 * finds the fields): kernels without these tracepoints, such as Debian 12's
 * arm64 one, have no such types for vmlinux.h. */
struct trace_event_raw_page_cache_ra_unbounded___pybcc {
    unsigned long i_ino;
    dev_t s_dev;
    unsigned long index;
    unsigned long nr_to_read;
} __attribute__((preserve_access_index));

struct trace_event_raw_page_cache_ra_order___pybcc {
    unsigned long i_ino;
    dev_t s_dev;
    unsigned long index;
    unsigned int size;
} __attribute__((preserve_access_index));

struct trace_event_raw_mm_filemap_op_page_cache_range___pybcc {
    unsigned long i_ino;
    dev_t s_dev;
    unsigned long index;
    unsigned long last_index;
} __attribute__((preserve_access_index));

static __always_inline int set_window(u32 dev, u64 ino, u64 index, u64 nr)
{
    u32 tid = (u32)bpf_get_current_pid_tgid();
    struct window w = {.ino = ino, .start = index, .end = index + nr, .dev = dev};

    bpf_map_update_elem(&ra_window, &tid, &w, BPF_ANY);
    return 0;
}

SEC("tracepoint/readahead/page_cache_ra_unbounded")
int ra_unbounded(struct trace_event_raw_page_cache_ra_unbounded___pybcc *ctx)
{
    return set_window(ctx->s_dev, ctx->i_ino, ctx->index, ctx->nr_to_read);
}

SEC("tracepoint/readahead/page_cache_ra_order")
int ra_order(struct trace_event_raw_page_cache_ra_order___pybcc *ctx)
{
    return set_window(ctx->s_dev, ctx->i_ino, ctx->index, ctx->size);
}

SEC("tracepoint/filemap/mm_filemap_add_to_page_cache")
int add_to_page_cache(struct trace_event_raw_mm_filemap_op_page_cache *ctx)
{
    u32 tid = (u32)bpf_get_current_pid_tgid();
    struct window *w = bpf_map_lookup_elem(&ra_window, &tid);
    struct page_key key = {.ino = ctx->i_ino, .index = ctx->index, .dev = ctx->s_dev};
    struct birth_t b = {.nr_pages = 1ULL << (ctx->order & 31)};

    if (!w || w->dev != key.dev || w->ino != key.ino ||
        key.index < w->start || key.index >= w->end)
        return 0;
    b.ts = bpf_ktime_get_ns();
    bpf_map_update_elem(&birth, &key, &b, BPF_ANY);
    add_pages(b.nr_pages);
    return 0;
}

/* Pages [index, last] of a file accessed: those read ahead are used. */
struct scan {
    struct page_key key;
    u64 last;
    u64 now;
};

/* one page of the scan; 1 ends it */
static long scan_page(u64 i, struct scan *s)
{
    struct birth_t *b;
    u64 n;

    if (s->key.index > s->last)
        return 1;
    b = bpf_map_lookup_elem(&birth, &s->key);
    if (!b) {
        s->key.index++;
        return 0;
    }
    n = b->nr_pages;
    used(s->now - b->ts, n);
    bpf_map_delete_elem(&birth, &s->key);
    s->key.index += n;
    return 0;
}

/* bpf_loop() (5.17+): the verifier checks scan_page once, not MAX_SCAN
 * times (the unrolled walk cost ~0.2 s of kernel CPU per program to load) */
static __always_inline int accessed(u32 dev, u64 ino, u64 index, u64 last)
{
    struct scan s = {.key = {.ino = ino, .index = index, .dev = dev},
                     .last = last, .now = bpf_ktime_get_ns()};

    bpf_loop(MAX_SCAN, scan_page, &s, 0);
    return 0;
}

/* The same walk without bpf_loop, for a kernel that has these tracepoints
 * but not the helper (a backport): slow to verify, so only its fallback. */
static __always_inline int accessed_unrolled(u32 dev, u64 ino, u64 index, u64 last)
{
    struct scan s = {.key = {.ino = ino, .index = index, .dev = dev},
                     .last = last, .now = bpf_ktime_get_ns()};
    int i;

    for (i = 0; i < MAX_SCAN; i++)
        if (scan_page(i, &s))
            break;
    return 0;
}

/* An access tracepoint's program, and its _unrolled twin for a kernel
 * without bpf_loop() (user space attaches the twin if the first fails). */
#define ACCESS_PROGRAMS(event, name)                                           \
SEC("tracepoint/filemap/" #event)                                              \
int name(struct trace_event_raw_mm_filemap_op_page_cache_range___pybcc *ctx)   \
{                                                                              \
    return accessed(ctx->s_dev, ctx->i_ino, ctx->index, ctx->last_index);      \
}                                                                              \
SEC("tracepoint/filemap/" #event)                                              \
int name##_unrolled(struct trace_event_raw_mm_filemap_op_page_cache_range___pybcc *ctx) \
{                                                                              \
    return accessed_unrolled(ctx->s_dev, ctx->i_ino, ctx->index, ctx->last_index); \
}

ACCESS_PROGRAMS(mm_filemap_get_pages, get_pages)
ACCESS_PROGRAMS(mm_filemap_map_pages, map_pages)

/* --- kprobes (bcc's) -------------------------------------------------------- */

static __always_inline int mark_readahead(u8 on)
{
    u32 tid = (u32)bpf_get_current_pid_tgid();

    bpf_map_update_elem(&in_readahead, &tid, &on, BPF_ANY);
    return 0;
}

SEC("kprobe/page_cache_ra_order")
int ra_entry(struct pt_regs *ctx) { return mark_readahead(1); }

SEC("kretprobe/page_cache_ra_order")
int ra_return(struct pt_regs *ctx) { return mark_readahead(0); }

/* filemap_alloc_folio(_noprof) or __page_cache_alloc: the new folio/page */
SEC("kretprobe/filemap_alloc_folio_noprof")
int alloc_return(struct pt_regs *ctx)
{
    u32 tid = (u32)bpf_get_current_pid_tgid();
    u8 *on = bpf_map_lookup_elem(&in_readahead, &tid);
    u64 page = PT_REGS_RC(ctx), ts;

    if (!on || !*on || !page)
        return 0;
    ts = bpf_ktime_get_ns();
    bpf_map_update_elem(&birth_by_page, &page, &ts, BPF_ANY);
    add_pages(1);
    return 0;
}

/* folio_mark_accessed(folio) or mark_page_accessed(page) */
SEC("kprobe/folio_mark_accessed")
int mark_accessed(struct pt_regs *ctx)
{
    u64 page = PT_REGS_PARM1(ctx);
    u64 *ts = bpf_map_lookup_elem(&birth_by_page, &page);

    if (!ts)
        return 0;
    used(bpf_ktime_get_ns() - *ts, 1);
    bpf_map_delete_elem(&birth_by_page, &page);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
