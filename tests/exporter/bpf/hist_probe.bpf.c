// Test program: hist_add() of the value in ctx[0], run with BPF_PROG_TEST_RUN.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <exporter/metrics.h>

METRIC_MAP(values, u32, struct hist, 1);

SEC("raw_tp/sys_enter")
int add_value(u64 *ctx)
{
    u32 zero = 0;

    hist_add(&values, &zero, ctx[0]);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
