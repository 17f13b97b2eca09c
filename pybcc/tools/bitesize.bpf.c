// bitesize: block I/O size histograms per process name, from block_rq_issue.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <pybcc/tool.h>

struct hist_key {
    char comm[16];
    u64 slot;
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 10240);
    __type(key, struct hist_key);
    __type(value, u64);
} hists SEC(".maps");

SEC("tracepoint/block/block_rq_issue")
int rq_issue(struct trace_event_raw_block_rq *ctx)
{
    struct hist_key key = {};
    u64 one = 1, *n;

    key.slot = log2_slot(ctx->bytes / 1024);
    bpf_probe_read_kernel_str(&key.comm, sizeof(key.comm), ctx->comm);
    n = bpf_map_lookup_elem(&hists, &key);
    if (n)
        __sync_fetch_and_add(n, 1);
    else if (bpf_map_update_elem(&hists, &key, &one, BPF_NOEXIST))
        if ((n = bpf_map_lookup_elem(&hists, &key)))
            __sync_fetch_and_add(n, 1);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
