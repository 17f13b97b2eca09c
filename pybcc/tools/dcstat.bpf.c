// dcstat: dcache lookups per second, as bcc: a kprobe on lookup_fast counts
// references (one per path component), a kretprobe on d_lookup counts slow
// lookups and, when it returns NULL, misses. No tracepoint sees the dcache.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <pybcc/percpu_counters.h>

enum stats { S_REFS = 1, S_SLOW, S_MISS, S_MAXSTAT };

DEFINE_PERCPU_COUNTERS(stats, S_MAXSTAT, u64);

SEC("kprobe/lookup_fast")
int count_fast(struct pt_regs *ctx)
{
    counter_add(&stats, S_REFS, 1);
    return 0;
}

SEC("kretprobe/d_lookup")
int count_lookup(struct pt_regs *ctx)
{
    counter_add(&stats, S_SLOW, 1);
    if (PT_REGS_RC(ctx) == 0)
        counter_add(&stats, S_MISS, 1);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
