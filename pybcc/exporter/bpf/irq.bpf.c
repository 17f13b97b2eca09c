// Hard IRQ time by handler name and soft IRQ time by vector, in ns, with
// counts. Entry timestamps are per CPU: handlers of one kind do not nest.
// A soft IRQ's entry time is kept in its vector's own slot, so that its
// exit, the hottest hook here, makes one lookup for both.
// The totals are per-CPU maps too: IRQs are frequent, and plain adds to
// this CPU's copy avoid atomics on cache lines that every CPU writes.
// Hard IRQs are keyed by the handler's irqaction (8 bytes to hash); its
// name is read once, into the value of the CPU that creates the entry
// (user space takes it from there and sums the CPUs by name).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <pybcc/twins.h>
#include <exporter/metrics.h>
#include <exporter/hooks.h>


struct irq_time {
    u64 ns;
    u64 count;
    u64 entered;        /* when this CPU entered the vector, 0 outside */
};

struct hard_time {
    u64 ns;
    u64 count;
    char name[32];      /* set on the CPU that created the entry */
};

/* when this CPU entered its hard IRQ handler */
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, u32);
    __type(value, u64);
} hard_entered SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
    __uint(max_entries, 512);
    __type(key, u64);                   /* struct irqaction * */
    __type(value, struct hard_time);
} hard SEC(".maps");

/* by vector: an array, so the lookup is inlined (NR_SOFTIRQS is 10) */
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 16);
    __type(key, u32);
    __type(value, struct irq_time);
} soft SEC(".maps");

static __always_inline int hard_enter(void)
{
    u32 zero = 0;
    u64 *ts = bpf_map_lookup_elem(&hard_entered, &zero);

    if (ts)
        *ts = bpf_ktime_get_ns();
    return 0;
}

/* ns since hard_enter(), 0 if it was not seen */
static __always_inline u64 hard_leave(void)
{
    u32 zero = 0;
    u64 *ts = bpf_map_lookup_elem(&hard_entered, &zero), delta;

    if (!ts || !*ts)
        return 0;
    delta = bpf_ktime_get_ns() - *ts;
    *ts = 0;
    return delta;
}

static __always_inline int hard_exit(bool direct, struct irqaction *action)
{
    struct hard_time *t;
    u64 ns = hard_leave(), key = (u64)action;

    if (!ns)
        return 0;
    t = bpf_map_lookup_elem(&hard, &key);
    if (!t) {
        struct hard_time first = {};

        bpf_probe_read_kernel_str(&first.name, sizeof(first.name), FIELD(direct, action, name));
        bpf_map_update_elem(&hard, &key, &first, BPF_NOEXIST);
        t = bpf_map_lookup_elem(&hard, &key);
        if (!t) {
            note_map_full();
            return 0;
        }
    }
    t->ns += ns;        // this CPU's copy
    t->count += 1;
    return 0;
}

static __always_inline int soft_enter(u32 vec)
{
    struct irq_time *t = bpf_map_lookup_elem(&soft, &vec);

    if (t)
        t->entered = bpf_ktime_get_ns();
    return 0;
}

static __always_inline int soft_exit(u32 vec)
{
    struct irq_time *t = bpf_map_lookup_elem(&soft, &vec);

    if (!t || !t->entered)
        return 0;
    t->ns += bpf_ktime_get_ns() - t->entered;     // this CPU's copy
    t->count += 1;
    t->entered = 0;
    return 0;
}

/* irq_handler_entry(int irq, struct irqaction *action); exit adds int ret */
BTF_RAW_TP(hard_entry, irq_handler_entry, hard_enter())
DIRECT_TWINS(hard_exit, irq_handler_exit, hard_exit, (struct irqaction *)ctx[1])
/* softirq_entry(unsigned int vec_nr) */
BTF_RAW_TP(soft_entry, softirq_entry, soft_enter((u32)ctx[0]))
BTF_RAW_TP(soft_exit, softirq_exit, soft_exit((u32)ctx[0]))

char LICENSE[] SEC("license") = "GPL";
