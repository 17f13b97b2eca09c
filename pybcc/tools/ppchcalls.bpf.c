// ppchcalls: powerpc hypervisor calls (hcalls), counted (and timed) per
// hcall or per process, from the powerpc:hcall_entry/exit raw tracepoints.
// Only pSeries powerpc kernels have them.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <pybcc/tool.h>

struct data_t {
    u64 count;
    u64 min;
    u64 max;
    u64 total_ns;
};

const volatile u32 targ_pid = 0;
const volatile u32 targ_tid = 0;
const volatile s64 targ_hcall = -1;
const volatile bool failures_only = false;
const volatile s64 targ_errno = 0;
const volatile bool by_process = false;

HASH_MAP(start, u64, u64, 10240);
HASH_MAP(ppc_data, u32, struct data_t, 10240);

static __always_inline bool filtered(u64 id, u64 opcode)
{
    return (targ_hcall >= 0 && opcode != (u64)targ_hcall) ||
           (targ_pid && (id >> 32) != targ_pid) || (targ_tid && (u32)id != targ_tid);
}

SEC("raw_tp/hcall_entry")
int hcall_entry(u64 *ctx)
{
    u64 id = bpf_get_current_pid_tgid(), ts;

    if (filtered(id, ctx[0]))
        return 0;
    ts = bpf_ktime_get_ns();
    bpf_map_update_elem(&start, &id, &ts, BPF_ANY);
    return 0;
}

SEC("raw_tp/hcall_exit")
int hcall_exit(u64 *ctx)
{
    u64 id = bpf_get_current_pid_tgid(), *start_ns, delta;
    s64 ret = (s64)ctx[1];
    struct data_t *val, zero = {};
    u32 key;

    if (filtered(id, ctx[0]))
        return 0;
    start_ns = bpf_map_lookup_elem(&start, &id);
    if (!start_ns)
        return 0;
    delta = bpf_ktime_get_ns() - *start_ns;
    bpf_map_delete_elem(&start, &id);
    if ((failures_only && ret >= 0) || (targ_errno && ret != -targ_errno))
        return 0;
    key = by_process ? id >> 32 : (u32)ctx[0];
    val = map_lookup_or_init(&ppc_data, &key, &zero);
    if (!val)
        return 0;
    __sync_fetch_and_add(&val->count, 1);
    __sync_fetch_and_add(&val->total_ns, delta);
    if (!val->min || delta < val->min)
        val->min = delta;       // racy across CPUs, as bcc's
    if (delta > val->max)
        val->max = delta;
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
