// funccount: count calls of kernel functions, user functions and
// tracepoints and USDT probes. One program per attach kind, attached once per matched probe;
// each attachment carries a cookie (probe index + 1) that selects the
// counter, so one compiled object serves any number of probes.
// The section targets are placeholders: user space names each probe.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <pybcc/maps.h>
#include <bpf/usdt.bpf.h>

#define MAX_PROBES 4096

const volatile u32 targ_pid = 0;
const volatile s32 targ_cpu = -1;

PERCPU_ARRAY_MAP(counts, u32, u64, MAX_PROBES);

static __always_inline int count_at(u32 idx)
{
    u64 *val;

    if (targ_pid && (bpf_get_current_pid_tgid() >> 32) != targ_pid)
        return 0;
    if (targ_cpu >= 0 && bpf_get_smp_processor_id() != (u32)targ_cpu)
        return 0;
    val = bpf_map_lookup_elem(&counts, &idx);
    if (val)
        *val += 1;
    return 0;
}

static __always_inline int count(void *ctx)
{
    return count_at((u32)bpf_get_attach_cookie(ctx) - 1);
}

/* kprobes and uprobes (both KPROBE programs) */
SEC("kprobe/funccount")
int count_probe(void *ctx)
{
    return count(ctx);
}

/* many kernel functions on one kprobe_multi link */
SEC("kprobe.multi/funccount")
int count_kprobe_multi(void *ctx)
{
    return count(ctx);
}

SEC("tracepoint/funccount/any")
int count_tracepoint(void *ctx)
{
    return count(ctx);
}

/* USDT probes: the cookie is kept in the probe's spec (<bpf/usdt.bpf.h>) */
SEC("usdt")
int count_usdt(struct pt_regs *ctx)
{
    return count_at((u32)bpf_usdt_cookie(ctx) - 1);
}

char LICENSE[] SEC("license") = "GPL";
