/* The number of pages in a folio (or a page, before folios), read with
 * CO-RE on every kernel layout: the page cache and memory tools count
 * pages where a tracepoint hands them a folio.
 */
#ifndef __PYBCC_FOLIO_H
#define __PYBCC_FOLIO_H

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

/* Before Linux 6.7ish the order had a field of its own. */
struct folio___order {
    unsigned char _folio_order;
} __attribute__((preserve_access_index));

struct folio___flags1 {
    unsigned long _flags_1;
} __attribute__((preserve_access_index));

static __always_inline u64 folio_pages(void *folio)
{
    struct folio___order *old = folio;
    struct folio___flags1 *cur = folio;
    unsigned long flags = 0;
    u32 head = bpf_core_enum_value(enum pageflags, PG_head);

    /* page->flags is the first word on every kernel (a struct since 6.17) */
    bpf_probe_read_kernel(&flags, sizeof(flags), folio);
    if (!(flags & (1UL << head)))
        return 1;
    if (bpf_core_field_exists(old->_folio_order))
        return 1UL << BPF_CORE_READ(old, _folio_order);
    if (bpf_core_field_exists(cur->_flags_1))
        return 1UL << (BPF_CORE_READ(cur, _flags_1) & 0xff);
    return 1;
}

#endif
