// hardirqs: hard interrupt handler time (or counts) by handler name, from
// the irq_handler_entry/irq_handler_exit tracepoints.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <pybcc/tool.h>

#define IRQ_NONE 0

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

#include <pybcc/irqtime.h>

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
    struct entry_val *v = ending(&k);
    struct irq_key key = {};

    if (!v)
        return 0;
    // IRQ_NONE: not this handler's interrupt (shared line)
    if (ctx->ret != IRQ_NONE) {
        __builtin_memcpy(key.name, v->name.name, sizeof(key.name));
        add_time(&key, bpf_ktime_get_ns() - v->ts);
    }
    bpf_map_delete_elem(&start, &k);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
