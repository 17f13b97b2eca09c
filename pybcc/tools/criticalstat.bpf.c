// criticalstat: sections with IRQs (or preemption) off for longer than
// min_ns, from the preemptirq tracepoints (CONFIG_PREEMPTIRQ_TRACEPOINTS).
// A section that overlaps the CPU going idle is not reported: power:cpu_idle
// marks it (as bcc's tool does).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <pybcc/tool.h>
#define STACK_STORAGE_SIZE 16384
#include <pybcc/stacks.h>

#define PWR_EVENT_EXIT ((u32)-1)

/* The preemptirq tracepoints' record (stable format; the kernel's struct is
 * missing from vmlinux.h where the tracepoints are not built). */
struct preemptirq_args {
    u64 common;
    s32 caller_offs;        // from _stext
    s32 parent_offs;
};

struct cpu_idle_args {
    u64 common;
    u32 state;
    u32 cpu_id;
};

struct start_data {
    s32 addr_offs[2];
    u64 ts;
    bool idle_skip;         // the CPU went idle inside the section
    bool active;
};

struct event {
    u64 time;
    s64 stack_id;
    u32 cpu;
    u32 pad;
    u64 id;
    s32 addrs[4];           // start caller, start parent, end caller, end parent
    char comm[16];
};
PYBCC_RECORD(event);

const volatile u64 min_ns = 100000;

PERCPU_ARRAY_MAP(sts, u32, struct start_data, 1);
PERCPU_ARRAY_MAP(isidle, u32, u64, 1);

SEC("tracepoint/power/cpu_idle")
int cpu_idle(struct cpu_idle_args *args)
{
    u32 zero = 0;
    struct start_data *s = bpf_map_lookup_elem(&sts, &zero);
    u64 *idle = bpf_map_lookup_elem(&isidle, &zero);

    if (s && s->active)
        s->idle_skip = true;
    if (idle)
        *idle = args->state != PWR_EVENT_EXIT;
    return 0;
}

static __always_inline struct start_data *state(void)
{
    u32 zero = 0;
    u64 *idle = bpf_map_lookup_elem(&isidle, &zero);
    struct start_data *s = bpf_map_lookup_elem(&sts, &zero);

    if (s && idle && *idle) {       // inside the idle loop: not counted
        __builtin_memset(s, 0, sizeof(*s));
        return NULL;
    }
    return s;
}

static __always_inline int section_begins(struct preemptirq_args *args)
{
    struct start_data *s = state();

    if (!s)
        return 0;
    s->idle_skip = false;
    s->addr_offs[0] = args->caller_offs;
    s->addr_offs[1] = args->parent_offs;
    s->ts = bpf_ktime_get_ns();
    s->active = true;
    return 0;
}

static __always_inline int section_ends(struct preemptirq_args *args)
{
    struct start_data *s = state();
    struct event e = {};
    u64 now = bpf_ktime_get_ns();

    if (!s)
        return 0;
    if (s->active && !s->idle_skip && s->ts <= now && now - s->ts >= min_ns &&
        !bpf_get_current_comm(&e.comm, sizeof(e.comm))) {
        e.addrs[0] = s->addr_offs[0];
        e.addrs[1] = s->addr_offs[1];
        e.addrs[2] = args->caller_offs;
        e.addrs[3] = args->parent_offs;
        e.id = bpf_get_current_pid_tgid();
        e.stack_id = bpf_get_stackid(args, &stack_traces, 0);
        e.time = now - s->ts;
        e.cpu = bpf_get_smp_processor_id();
        emit_event(args, &e, sizeof(e));
    }
    __builtin_memset(s, 0, sizeof(*s));
    return 0;
}

SEC("tracepoint/preemptirq/irq_disable")
int irq_disable(struct preemptirq_args *args) { return section_begins(args); }

SEC("tracepoint/preemptirq/irq_enable")
int irq_enable(struct preemptirq_args *args) { return section_ends(args); }

SEC("tracepoint/preemptirq/preempt_disable")
int preempt_disable(struct preemptirq_args *args) { return section_begins(args); }

SEC("tracepoint/preemptirq/preempt_enable")
int preempt_enable(struct preemptirq_args *args) { return section_ends(args); }

char LICENSE[] SEC("license") = "GPL";
