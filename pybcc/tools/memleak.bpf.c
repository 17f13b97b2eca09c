// memleak: outstanding allocations by stack.
// User mode: uprobes on libc's allocators (size at entry, address at return).
// Kernel mode: the kmem/percpu tracepoints, which carry size and address at once.
// Every live allocation sits in `allocs` (address -> size, time, stack); a
// free removes it. `combined_allocs` keeps per-stack totals for --combined-only.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <pybcc/tool.h>

struct alloc_info {
    u64 size;
    u64 timestamp_ns;
    s64 stack_id;
};

struct combined_alloc_info {
    u64 total_size;
    u64 number_of_allocs;
};

/* -t: one event per call */
enum { EV_ALLOC_ENTER = 1, EV_ALLOC_EXIT = 2, EV_FREE = 3 };
struct memleak_trace {
    u32 kind;
    u32 pid;        // the thread, as trace_pipe shows it
    u64 size;
    u64 address;
    u64 ts;         // ns, CLOCK_MONOTONIC
    u32 cpu;
    char comm[16];
};
PYBCC_RECORD(memleak_trace);

const volatile u64 min_size = 0;
const volatile u64 max_size = (u64)-1;
const volatile u64 sample_rate = 1;
const volatile bool trace_all = false;
const volatile bool user_stacks = false;
const volatile bool wa_missing_free = false;
const volatile u64 page_size = 4096;
const volatile bool skip_bpf_refills = false;

HASH_MAP(sizes, u32, u64, 10240);

HASH_MAP(allocs, u64, struct alloc_info, 1000000);

HASH_MAP(memptrs, u32, u64, 10240);

STACK_TRACE_MAP(stack_traces, 10240);

HASH_MAP(combined_allocs, u64, struct combined_alloc_info, 10240);

/* kernel call site -> whether it is the BPF allocator's refill (see from_bpf_refill) */
LRU_HASH_MAP(refill_sites, u64, u8, 4096);

/* trace, record_alloc and record_free are BPF subprograms, not inlined: the
 * object carries each once rather than in each of its programs (with 30
 * programs: 5,118 instructions, 997), which every start reads and links. */
static __noinline void trace(void *ctx, u32 kind, u64 size, u64 address)
{
    struct memleak_trace e = {};

    if (!trace_all)
        return;
    e.kind = kind;
    e.pid = (u32)bpf_get_current_pid_tgid();
    e.ts = bpf_ktime_get_ns();
    e.cpu = bpf_get_smp_processor_id();
    e.size = size;
    e.address = address;
    bpf_get_current_comm(e.comm, sizeof(e.comm));
    emit_event(ctx, &e, sizeof(e));
}

static __always_inline void combined_add(u64 stack_id, u64 size)
{
    struct combined_alloc_info zero = {}, *c;

    c = map_lookup_or_init(&combined_allocs, &stack_id, &zero);
    if (!c)
        return;
    __sync_fetch_and_add(&c->total_size, size);
    __sync_fetch_and_add(&c->number_of_allocs, 1);
}

static __always_inline void combined_del(u64 stack_id, u64 size)
{
    struct combined_alloc_info *c = bpf_map_lookup_elem(&combined_allocs, &stack_id);

    if (!c)
        return;
    c->total_size = size >= c->total_size ? 0 : c->total_size - size;
    if (c->number_of_allocs > 0)
        c->number_of_allocs -= 1;
}

/* Whether an allocation of this size is one we keep (-z/-Z, -s). */
static __always_inline bool wanted(u64 size)
{
    if (size < min_size || size > max_size)
        return false;
    if (sample_rate > 1 && bpf_ktime_get_ns() % sample_rate != 0)
        return false;
    return true;
}

static __noinline int record_alloc(void *ctx, u64 size, u64 address)
{
    struct alloc_info info = {};

    if (address != 0) {
        info.size = size;
        info.timestamp_ns = bpf_ktime_get_ns();
        info.stack_id = bpf_get_stackid(ctx, &stack_traces, user_stacks ? BPF_F_USER_STACK : 0);
        bpf_map_update_elem(&allocs, &address, &info, BPF_ANY);
        combined_add(info.stack_id, info.size);
    }
    trace(ctx, EV_ALLOC_EXIT, size, address);
    return 0;
}

static __noinline int record_free(void *ctx, u64 address)
{
    struct alloc_info *info = bpf_map_lookup_elem(&allocs, &address);

    if (!info)
        return 0;
    u64 size = info->size;
    combined_del(info->stack_id, size);
    bpf_map_delete_elem(&allocs, &address);
    trace(ctx, EV_FREE, size, address);
    return 0;
}

/* ---- user mode: entry saves the size per thread, return records it ---- */

static __always_inline int alloc_enter(void *ctx, u64 size)
{
    u32 tid = (u32)bpf_get_current_pid_tgid();

    if (!wanted(size))
        return 0;
    bpf_map_update_elem(&sizes, &tid, &size, BPF_ANY);
    trace(ctx, EV_ALLOC_ENTER, size, 0);
    return 0;
}

static __always_inline int alloc_exit(void *ctx, u64 address)
{
    u32 tid = (u32)bpf_get_current_pid_tgid();
    u64 *size = bpf_map_lookup_elem(&sizes, &tid);

    if (!size)
        return 0;   /* entry filtered out or missed */
    u64 sz = *size;
    bpf_map_delete_elem(&sizes, &tid);
    return record_alloc(ctx, sz, address);
}

/* One program per way of reading a call, each attached by memleak.py to
 * every allocator that reads so (one to verify per kind, not one per
 * function): the size in the first argument (malloc, valloc, pvalloc) or
 * the second (mmap, memalign, aligned_alloc); the address returned (every
 * allocator but mmap and posix_memalign); the address freed (free, munmap). */
SEC("uprobe")
int size_arg1_enter(struct pt_regs *ctx) { return alloc_enter(ctx, PT_REGS_PARM1(ctx)); }

SEC("uprobe")
int size_arg2_enter(struct pt_regs *ctx) { return alloc_enter(ctx, PT_REGS_PARM2(ctx)); }

SEC("uretprobe")
int alloc_return(struct pt_regs *ctx) { return alloc_exit(ctx, PT_REGS_RC(ctx)); }

SEC("uprobe")
int calloc_enter(struct pt_regs *ctx)
{
    return alloc_enter(ctx, PT_REGS_PARM1(ctx) * PT_REGS_PARM2(ctx));
}

SEC("uprobe")
int realloc_enter(struct pt_regs *ctx)
{
    record_free(ctx, PT_REGS_PARM1(ctx));
    return alloc_enter(ctx, PT_REGS_PARM2(ctx));
}

SEC("uretprobe")
int mmap_return(struct pt_regs *ctx)
{
    u64 ret = PT_REGS_RC(ctx);
    return alloc_exit(ctx, ret == (u64)-1 ? 0 : ret);   /* MAP_FAILED */
}

SEC("uprobe")
int posix_memalign_enter(struct pt_regs *ctx)
{
    u32 tid = (u32)bpf_get_current_pid_tgid();
    u64 memptr = PT_REGS_PARM1(ctx);

    bpf_map_update_elem(&memptrs, &tid, &memptr, BPF_ANY);
    return alloc_enter(ctx, PT_REGS_PARM3(ctx));
}

SEC("uretprobe")
int posix_memalign_return(struct pt_regs *ctx)
{
    u32 tid = (u32)bpf_get_current_pid_tgid();
    u64 *memptr = bpf_map_lookup_elem(&memptrs, &tid);
    u64 addr = 0;

    if (!memptr)
        return 0;
    void *where = (void *)*memptr;
    bpf_map_delete_elem(&memptrs, &tid);
    if (PT_REGS_RC(ctx) != 0 || bpf_probe_read_user(&addr, sizeof(addr), where))
        addr = 0;
    return alloc_exit(ctx, addr);
}

SEC("uprobe")
int free_enter(struct pt_regs *ctx) { return record_free(ctx, PT_REGS_PARM1(ctx)); }

/* ---- kernel mode: tracepoints ---- */

static __always_inline int kernel_alloc(void *ctx, u64 size, u64 address)
{
    if (wa_missing_free)
        record_free(ctx, address);
    if (!wanted(size))
        return 0;
    trace(ctx, EV_ALLOC_ENTER, size, 0);
    return record_alloc(ctx, size, address);
}

/* Where allocs is made entry by entry (6.1+: memleak.py sets skip_bpf_refills),
 * the kernel refills its element cache from an irq_work (bpf_mem_refill ->
 * alloc_bulk -> kmalloc). Recorded, those kmallocs would take elements from
 * the cache they fill, and the refills would feed themselves until allocs
 * is full: they are left out, as bcc, which preallocates, never sees them.
 * A call site is named once (bpf_snprintf's %ps, 5.13+) and remembered. */
union fn_name {
    char text[16];
    u64 words[2];       /* compared two words at a time: no loop to verify */
};

static const union fn_name refill_fns[2] = {{.text = "alloc_bulk"}, {.text = "bpf_mem_refill"}};

static __always_inline bool from_bpf_refill(u64 call_site)
{
    union fn_name name = {};
    u64 args[1] = {call_site};
    u8 *known, refill;

    if (!skip_bpf_refills)
        return false;
    known = bpf_map_lookup_elem(&refill_sites, &call_site);
    if (known)
        return *known;
    bpf_snprintf(name.text, sizeof(name.text), "%ps", args, sizeof(args));
    refill = (name.words[0] == refill_fns[0].words[0] && name.words[1] == refill_fns[0].words[1]) ||
             (name.words[0] == refill_fns[1].words[0] && name.words[1] == refill_fns[1].words[1]);
    bpf_map_update_elem(&refill_sites, &call_site, &refill, BPF_ANY);
    return refill;
}

/* Before 6.0 the slab tracepoints shared event classes: kmalloc and
 * kmem_cache_alloc were kmem_alloc (their _node forms kmem_alloc_node, the
 * same fields and one more), kfree and kmem_cache_free kmem_free. The fields
 * read here are the same; only the record names differ, so where the new
 * names are missing the old ones are read (CO-RE picks one branch). */
struct trace_event_raw_kmem_alloc___old {
    const void *ptr;
    size_t bytes_alloc;
} __attribute__((preserve_access_index));

struct trace_event_raw_kmem_free___old {
    const void *ptr;
} __attribute__((preserve_access_index));

/* The new names are read from the context directly (these tracepoints fire
 * at every slab allocation); the old ones with bpf_core_read, a helper call:
 * two branches of context loads would be merged by clang into one load at a
 * selected offset, which the verifier refuses. */
#define SLAB_ALLOC(args, type)                                                     \
    (bpf_core_type_exists(struct type)                                             \
         ? (from_bpf_refill(((struct type *)(args))->call_site) ? 0 :              \
            kernel_alloc(args, ((struct type *)(args))->bytes_alloc,               \
                         (u64)((struct type *)(args))->ptr))                       \
         : kernel_alloc(args,                                                      \
                        BPF_CORE_READ((struct trace_event_raw_kmem_alloc___old *)(args), bytes_alloc), \
                        (u64)BPF_CORE_READ((struct trace_event_raw_kmem_alloc___old *)(args), ptr)))

#define SLAB_FREE(args, type)                                                      \
    (bpf_core_type_exists(struct type)                                             \
         ? record_free(args, (u64)((struct type *)(args))->ptr)                    \
         : record_free(args, (u64)BPF_CORE_READ((struct trace_event_raw_kmem_free___old *)(args), ptr)))

/* Each slab program serves two tracepoints (memleak.py attaches it to both;
 * one to verify, not two): kmalloc also kmalloc_node, kmem_cache_alloc also
 * kmem_cache_alloc_node (the _node records, gone since 6.1, are the same
 * with one more field at the end), slab_free kfree and kmem_cache_free
 * (ptr follows call_site in both, also where kmem_cache_free has the
 * cache's name after it). */
SEC("tracepoint/kmem/kmalloc")
int kmalloc(void *args)
{
    return SLAB_ALLOC(args, trace_event_raw_kmalloc);
}

SEC("tracepoint/kmem/kmem_cache_alloc")
int kmem_cache_alloc(void *args)
{
    return SLAB_ALLOC(args, trace_event_raw_kmem_cache_alloc);
}

SEC("tracepoint/kmem/kfree")
int slab_free(void *args)
{
    return SLAB_FREE(args, trace_event_raw_kfree);
}

/* Pages are keyed by page frame number: both page allocator interfaces see it. */
SEC("tracepoint/kmem/mm_page_alloc")
int mm_page_alloc(struct trace_event_raw_mm_page_alloc *args)
{
    return kernel_alloc(args, page_size << args->order, args->pfn);
}

SEC("tracepoint/kmem/mm_page_free")
int mm_page_free(struct trace_event_raw_mm_page_free *args)
{
    return record_free(args, args->pfn);
}

SEC("tracepoint/percpu/percpu_alloc_percpu")
int percpu_alloc_percpu(struct trace_event_raw_percpu_alloc_percpu *args)
{
    return kernel_alloc(args, args->size, (u64)args->ptr);
}

SEC("tracepoint/percpu/percpu_free_percpu")
int percpu_free_percpu(struct trace_event_raw_percpu_free_percpu *args)
{
    return record_free(args, (u64)args->ptr);
}

char LICENSE[] SEC("license") = "GPL";
