// cpuunclaimed: sample every CPU's run queue length at the same moments (a
// cpu-clock perf event per CPU with one fixed period) and send each sample;
// the Python side groups the CPUs' samples of one moment and finds idle
// CPUs while others had tasks waiting.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <pybcc/tool.h>
#include <pybcc/runqueue.h>

struct event {
    u64 ts;
    u32 cpu;
    u32 len;        // runnable tasks, the running one included
};
PYBCC_RECORD(event);

SEC("perf_event")
int do_sample(void *ctx)
{
    struct event e = {
        .ts = bpf_ktime_get_ns(),
        .cpu = bpf_get_smp_processor_id(),
        .len = cpu_nr_running(),
    };

    emit_event(ctx, &e, sizeof(e));
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
