// softirqs: soft interrupt time (or counts) by softirq vector, from the
// softirq_entry/softirq_exit tracepoints.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <pybcc/tool.h>

struct entry_val {
    u64 ts;
    u32 vec;
};

struct irq_key {
    u32 vec;
    u32 pad;
    u64 slot;
};

#include <pybcc/irqtime.h>

SEC("tracepoint/irq/softirq_entry")
int softirq_entry(struct trace_event_raw_softirq *ctx)
{
    struct entry_key k;
    struct entry_val v = {};
    struct irq_key key = {};

    if (!this_cpu(&k))
        return 0;
    if (mode == MODE_COUNT) {
        key.vec = ctx->vec;
        add(&key, 1);
        return 0;
    }
    v.ts = bpf_ktime_get_ns();
    v.vec = ctx->vec;
    bpf_map_update_elem(&start, &k, &v, BPF_ANY);
    return 0;
}

SEC("tracepoint/irq/softirq_exit")
int softirq_exit(struct trace_event_raw_softirq *ctx)
{
    struct entry_key k;
    struct entry_val *v = ending(&k);
    struct irq_key key = {};

    if (!v)
        return 0;
    key.vec = v->vec;
    add_time(&key, bpf_ktime_get_ns() - v->ts);
    bpf_map_delete_elem(&start, &k);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
