// bitesize: block I/O size histograms per process name, from block_rq_issue;
// optionally only one process (-p), names starting with a prefix (-c) or
// one disk (-d), as libbpf-tools' bitesize has them.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <pybcc/tool.h>

struct hist_key {
    char comm[16];
    u64 slot;
};

const volatile u32 targ_tgid = 0;
const volatile char targ_comm[16] = {};
const volatile bool filter_dev = false;
const volatile u32 targ_dev = 0;     // the kernel's dev_t (major << 20 | minor)

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 10240);
    __type(key, struct hist_key);
    __type(value, u64);
} hists SEC(".maps");

/* -c: the name starts with targ_comm (which is "" without -c) */
static __always_inline bool comm_wanted(const char *comm)
{
    for (int i = 0; i < sizeof(targ_comm) && targ_comm[i]; i++)
        if (comm[i] != targ_comm[i])
            return false;
    return true;
}

SEC("tracepoint/block/block_rq_issue")
int rq_issue(struct trace_event_raw_block_rq *ctx)
{
    struct hist_key key = {};
    u64 one = 1, *n;

    if (targ_tgid && (bpf_get_current_pid_tgid() >> 32) != targ_tgid)
        return 0;
    if (filter_dev && ctx->dev != targ_dev)
        return 0;
    bpf_probe_read_kernel_str(&key.comm, sizeof(key.comm), ctx->comm);
    if (!comm_wanted(key.comm))
        return 0;
    key.slot = log2_slot(ctx->bytes / 1024);
    n = bpf_map_lookup_elem(&hists, &key);
    if (n)
        __sync_fetch_and_add(n, 1);
    else if (bpf_map_update_elem(&hists, &key, &one, BPF_NOEXIST))
        if ((n = bpf_map_lookup_elem(&hists, &key)))
            __sync_fetch_and_add(n, 1);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
