// hardirqs: hard interrupt handler time (or counts) by handler name, from
// the irq_handler_entry/irq_handler_exit tracepoints.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <pybcc/tool.h>

#define IRQ_NONE 0

enum { MODE_TIME, MODE_COUNT, MODE_DIST };

struct entry_key {
    u32 tid;        // with the CPU: irqs hit the idle task (tid 0) on every CPU
    u32 cpu;
};

struct irq_name {
    char name[32];
};

struct irq_key {
    char name[32];
    u64 slot;
};

struct entry_val {
    u64 ts;
    struct irq_name name;
};

const volatile int mode = MODE_TIME;
const volatile u64 factor = 1000;
const volatile s32 targ_cpu = -1;

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 10240);
    __type(key, struct entry_key);
    __type(value, struct entry_val);
} start SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 10240);
    __type(key, struct irq_key);
    __type(value, u64);
} dist SEC(".maps");

static __always_inline void add(struct irq_key *key, u64 n)
{
    u64 *v = bpf_map_lookup_elem(&dist, key);

    if (v)
        __sync_fetch_and_add(v, n);
    else if (bpf_map_update_elem(&dist, key, &n, BPF_NOEXIST))
        if ((v = bpf_map_lookup_elem(&dist, key)))
            __sync_fetch_and_add(v, n);
}

static __always_inline bool this_cpu(struct entry_key *k)
{
    k->tid = (u32)bpf_get_current_pid_tgid();
    k->cpu = bpf_get_smp_processor_id();
    return targ_cpu < 0 || k->cpu == (u32)targ_cpu;
}

SEC("tracepoint/irq/irq_handler_entry")
int handler_entry(struct trace_event_raw_irq_handler_entry *ctx)
{
    struct entry_key k;
    struct entry_val v = {};
    u32 off = ctx->__data_loc_name & 0xffff;

    if (!this_cpu(&k))
        return 0;
    v.ts = bpf_ktime_get_ns();
    bpf_probe_read_kernel_str(&v.name.name, sizeof(v.name.name), (void *)ctx + off);
    bpf_map_update_elem(&start, &k, &v, BPF_ANY);
    return 0;
}

SEC("tracepoint/irq/irq_handler_exit")
int handler_exit(struct trace_event_raw_irq_handler_exit *ctx)
{
    struct entry_key k;
    struct entry_val *v;
    struct irq_key key = {};
    u64 delta;

    if (!this_cpu(&k))
        return 0;
    v = bpf_map_lookup_elem(&start, &k);
    if (!v)
        return 0;       // missed the entry
    // IRQ_NONE: not this handler's interrupt (shared line)
    if (ctx->ret != IRQ_NONE) {
        delta = bpf_ktime_get_ns() - v->ts;
        __builtin_memcpy(key.name, v->name.name, sizeof(key.name));
        if (mode == MODE_COUNT) {
            add(&key, 1);
        } else if (mode == MODE_DIST) {
            key.slot = log2_slot(delta / factor);
            add(&key, 1);
        } else {
            add(&key, delta);
        }
    }
    bpf_map_delete_elem(&start, &k);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
