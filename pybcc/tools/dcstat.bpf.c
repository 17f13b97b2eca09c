// dcstat: dcache lookups per second, as bcc: a kprobe on lookup_fast counts
// references (one per path component), a kretprobe on d_lookup counts slow
// lookups and, when it returns NULL, misses. No tracepoint sees the dcache.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

enum stats { S_REFS = 1, S_SLOW, S_MISS, S_MAXSTAT };

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, S_MAXSTAT);
    __type(key, u32);
    __type(value, u64);
} stats SEC(".maps");

static __always_inline void count(u32 key)
{
    u64 *v = bpf_map_lookup_elem(&stats, &key);

    if (v)
        *v += 1;
}

SEC("kprobe/lookup_fast")
int count_fast(struct pt_regs *ctx)
{
    count(S_REFS);
    return 0;
}

SEC("kretprobe/d_lookup")
int count_lookup(struct pt_regs *ctx)
{
    count(S_SLOW);
    if (PT_REGS_RC(ctx) == 0)
        count(S_MISS);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
