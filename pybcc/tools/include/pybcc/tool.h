/* Shared BPF-side pieces of pybcc's tools.
 *
 * Events go out through a ring buffer when the kernel has one and a perf
 * buffer otherwise; the Python side sets use_ringbuf before load. Both maps
 * exist in every object (one compiled object serves every kernel), and the
 * unused one costs one page. Ring buffer drops are counted in
 * events_dropped because the kernel does not report them.
 *
 * Ring buffer wake-ups: by default the kernel wakes the reader for every
 * record committed while the reader is caught up, i.e. nearly every event
 * at moderate rates (an irq_work IPI on the producer's CPU plus a reader
 * wake-up per event). With ringbuf_wakeup_bytes set, records are written
 * with BPF_RB_NO_WAKEUP, except the one that makes the waiting data cross
 * a multiple of that many bytes, written with BPF_RB_FORCE_WAKEUP; the
 * reader's poll timeout picks up the rest. (A crossing missed because
 * another CPU reserved between the query and the output is caught at the
 * next multiple.)
 */
#ifndef __PYBCC_TOOL_H
#define __PYBCC_TOOL_H

#include <bpf/bpf_helpers.h>
#include <pybcc/maps.h>

const volatile bool use_ringbuf = false;
const volatile u64 ringbuf_wakeup_bytes = 0;   /* 0: the kernel's per-record wake-ups */

#define PYBCC_RB_NO_WAKEUP 1       /* BPF_RB_NO_WAKEUP */
#define PYBCC_RB_FORCE_WAKEUP 2    /* BPF_RB_FORCE_WAKEUP */
#define PYBCC_RB_AVAIL_DATA 0      /* BPF_RB_AVAIL_DATA */

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 256 * 1024);
} events_rb SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
    __uint(key_size, sizeof(u32));
    __uint(value_size, sizeof(u32));
} events_pb SEC(".maps");

PERCPU_ARRAY_MAP(events_dropped, u32, u64, 1);

static __always_inline void pybcc_count_drop(void)
{
    u32 zero = 0;
    u64 *n = bpf_map_lookup_elem(&events_dropped, &zero);
    if (n)
        *n += 1;
}

/* Send one event of ``size`` bytes from ``data`` (any memory the program can read). */
static __always_inline void emit_event(void *ctx, void *data, u64 size)
{
    if (use_ringbuf) {
        u64 flags = 0;
        if (ringbuf_wakeup_bytes) {
            u64 avail = bpf_ringbuf_query(&events_rb, PYBCC_RB_AVAIL_DATA);
            /* wake once per ringbuf_wakeup_bytes of backlog (when this record
             * crosses a multiple of it), not on every record above it: each
             * forced wake-up is an irq_work (a self-IPI) on the producer */
            flags = avail / ringbuf_wakeup_bytes != (avail + size) / ringbuf_wakeup_bytes
                    ? PYBCC_RB_FORCE_WAKEUP : PYBCC_RB_NO_WAKEUP;
        }
        if (bpf_ringbuf_output(&events_rb, data, size, flags))
            pybcc_count_drop();
    } else {
        bpf_perf_event_output(ctx, &events_pb, BPF_F_CURRENT_CPU, data, size);
    }
}

/* Keep ``struct name`` in the object's BTF, where the Python side finds the
 * layout of the records it decodes (pybcc/events/records.py), even when no
 * map or global variable names the struct. Costs 8 bytes of .rodata. */
#define PYBCC_RECORD(name) \
    struct name *const volatile __pybcc_record_##name __attribute__((used)) = 0

/* Per-CPU scratch space for events too big for the 512-byte stack. */
#define DEFINE_SCRATCH(vtype, name)                     \
    struct {                                            \
        __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);        \
        __uint(max_entries, 1);                         \
        __type(key, u32);                               \
        __type(value, vtype);                           \
    } name SEC(".maps")

static __always_inline void *scratch(void *map)
{
    u32 zero = 0;
    return bpf_map_lookup_elem(map, &zero);
}

/* log2 of a value (0 for 0 and 1). */
static __always_inline u32 log2_u64(u64 v)
{
    u32 r = 0, shift;
    shift = (v > 0xFFFFFFFF) << 5; v >>= shift; r |= shift;
    shift = (v > 0xFFFF) << 4; v >>= shift; r |= shift;
    shift = (v > 0xFF) << 3; v >>= shift; r |= shift;
    shift = (v > 0xF) << 2; v >>= shift; r |= shift;
    shift = (v > 0x3) << 1; v >>= shift; r |= shift;
    r |= (v >> 1);
    return r;
}

/* The histogram slot of a value, as bcc's bpf_log2l(): slot i > 1 holds
 * [2^(i-1), 2^i), and slot 1 holds both 0 and 1 (bcc's "0 -> 1" row). */
static __always_inline u32 log2_slot(u64 v)
{
    return log2_u64(v) + 1;
}

#endif
