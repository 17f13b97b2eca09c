// softirqs: soft interrupt time (or counts) by softirq vector, from the
// softirq_entry/softirq_exit tracepoints.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <pybcc/tool.h>

enum { MODE_TIME, MODE_COUNT, MODE_DIST };

struct entry_key {
    u32 pid;        // with the CPU: softirqs run in the idle task (pid 0) of every CPU
    u32 cpu;
};

struct entry_val {
    u64 ts;
    u32 vec;
};

struct irq_key {
    u32 vec;
    u32 pad;
    u64 slot;
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
    k->pid = (u32)bpf_get_current_pid_tgid();
    k->cpu = bpf_get_smp_processor_id();
    return targ_cpu < 0 || k->cpu == (u32)targ_cpu;
}

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
    struct entry_val *v;
    struct irq_key key = {};
    u64 delta;

    if (!this_cpu(&k))
        return 0;
    v = bpf_map_lookup_elem(&start, &k);
    if (!v)
        return 0;       // missed the entry
    delta = bpf_ktime_get_ns() - v->ts;
    key.vec = v->vec;
    if (mode == MODE_DIST) {
        key.slot = log2_slot(delta / factor);
        add(&key, 1);
    } else {
        add(&key, delta);
    }
    bpf_map_delete_elem(&start, &k);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
