// softirqslower: softirqs that waited long after being raised, or ran long:
// one event per softirq_raise → softirq_entry ("irq(hard) to softirq") and
// softirq_entry → softirq_exit ("softirq runtime") longer than min_ns.
// Raise, entry and exit of a vector happen on one CPU: per-CPU timestamps.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <pybcc/tool.h>

#define NR_VECS 10      // NR_SOFTIRQS

enum { STAGE_RAISE, STAGE_ENTRY, STAGE_EXIT };

struct event {
    u32 stage;
    u32 vec;
    u32 cpu;
    u32 pad;
    u64 delta_ns;
    char task[16];
};
PYBCC_RECORD(event);

const volatile u64 min_ns = 10000000;
const volatile s32 targ_cpu = -1;

/* [vec] when it was raised / when it began to run, on this CPU; 0: not seen */
PERCPU_ARRAY_MAP(raised, u32, u64, NR_VECS);

PERCPU_ARRAY_MAP(entered, u32, u64, NR_VECS);

static __always_inline bool this_cpu(u32 *cpu)
{
    *cpu = bpf_get_smp_processor_id();
    return targ_cpu < 0 || *cpu == (u32)targ_cpu;
}

/* The time since *since (then cleared), and an event when it is long. */
static __always_inline void stage_ends(void *ctx, u64 *since, u32 stage, u32 vec, u32 cpu,
                                       u64 now)
{
    struct event e = {};

    if (!*since)
        return;     // began before tracing
    e.delta_ns = now - *since;
    *since = 0;
    if (e.delta_ns < min_ns)
        return;
    e.stage = stage;
    e.vec = vec;
    e.cpu = cpu;
    bpf_get_current_comm(&e.task, sizeof(e.task));
    emit_event(ctx, &e, sizeof(e));
}

SEC("tracepoint/irq/softirq_raise")
int softirq_raise(struct trace_event_raw_softirq *ctx)
{
    u32 vec = ctx->vec, cpu;
    u64 *ts = bpf_map_lookup_elem(&raised, &vec);

    // raised again before it ran: the wait counts from the first raise
    if (this_cpu(&cpu) && ts && !*ts)
        *ts = bpf_ktime_get_ns();
    return 0;
}

SEC("tracepoint/irq/softirq_entry")
int softirq_entry(struct trace_event_raw_softirq *ctx)
{
    u32 vec = ctx->vec, cpu;
    u64 *ts, now = bpf_ktime_get_ns();

    if (!this_cpu(&cpu))
        return 0;
    ts = bpf_map_lookup_elem(&raised, &vec);
    if (ts)
        stage_ends(ctx, ts, STAGE_ENTRY, vec, cpu, now);
    ts = bpf_map_lookup_elem(&entered, &vec);
    if (ts)
        *ts = now;
    return 0;
}

SEC("tracepoint/irq/softirq_exit")
int softirq_exit(struct trace_event_raw_softirq *ctx)
{
    u32 vec = ctx->vec, cpu;
    u64 *ts;

    if (!this_cpu(&cpu))
        return 0;
    ts = bpf_map_lookup_elem(&entered, &vec);
    if (ts)
        stage_ends(ctx, ts, STAGE_EXIT, vec, cpu, bpf_ktime_get_ns());
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
