// cachestat and cachetop: page cache accesses, additions and dirtyings,
// counted in the kernel (per process for cachetop).
// Where kprobes exist, bcc's four functions, counted per call:
//   APCL filemap_add_folio/add_to_page_cache_lru, MPA folio_mark_accessed/
//   mark_page_accessed, APD folio_account_dirtied/account_page_dirtied,
//   MBD mark_buffer_dirty.
// Elsewhere the filemap and writeback tracepoints, counted in pages:
//   APCL mm_filemap_add_to_page_cache, MPA the pages mm_filemap_get_pages
//   hands to read() plus one per mm_filemap_fault, APD writeback_dirty_folio;
//   MBD has no tracepoint.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <pybcc/maps.h>
#include <pybcc/counts.h>
#include <pybcc/folio.h>
#include <pybcc/twins.h>

enum { NF_APCL, NF_MPA, NF_MBD, NF_APD };

const volatile bool per_process = false;
const volatile u32 targ_pid = 0;

struct counter_key {
    u32 nf;
    u32 pid;
    u32 uid;
    char comm[16];
};

HASH_MAP(counts, struct counter_key, u64, 40960);

static __always_inline int count(u32 nf, u64 pages)
{
    struct counter_key key = {.nf = nf};
    u32 pid = bpf_get_current_pid_tgid() >> 32;

    if (targ_pid && pid != targ_pid)
        return 0;
    if (per_process) {
        key.pid = pid;
        key.uid = bpf_get_current_uid_gid();
        bpf_get_current_comm(&key.comm, sizeof(key.comm));
    }
    map_add(&counts, &key, pages);
    return 0;
}

/* bcc's kprobes: each is attached to whichever of its functions exists */
SEC("kprobe")
int apcl_kprobe(void *ctx) { return count(NF_APCL, 1); }
SEC("kprobe")
int mpa_kprobe(void *ctx) { return count(NF_MPA, 1); }
SEC("kprobe")
int apd_kprobe(void *ctx) { return count(NF_APD, 1); }
SEC("kprobe")
int mbd_kprobe(void *ctx) { return count(NF_MBD, 1); }

/* The tracepoints' arguments: (folio) for the add and the dirtying,
 * (mapping, first index, last index) for get_pages, (mapping, index) for
 * the fault. writeback_dirty_page (before 5.17) has a page: one. */
BTF_RAW_TP(add_tp, mm_filemap_add_to_page_cache, count(NF_APCL, folio_pages((void *)ctx[0])))
BTF_RAW_TP(get_pages_tp, mm_filemap_get_pages, count(NF_MPA, ctx[2] - ctx[1] + 1))
BTF_RAW_TP(fault_tp, mm_filemap_fault, count(NF_MPA, 1))
BTF_RAW_TP(dirty_folio_tp, writeback_dirty_folio, count(NF_APD, folio_pages((void *)ctx[0])))
BTF_RAW_TP(dirty_page_tp, writeback_dirty_page, count(NF_APD, 1))

char LICENSE[] SEC("license") = "GPL";
