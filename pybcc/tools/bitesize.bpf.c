// bitesize: block I/O size histograms per process name, from block_rq_issue;
// optionally only one process (-p), names starting with a prefix (-c) or
// one disk (-d), as libbpf-tools' bitesize has them.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <pybcc/tool.h>
#include <pybcc/counts.h>

struct hist_key {
    char comm[16];
    u64 slot;
};

const volatile u32 targ_tgid = 0;
const volatile char targ_comm[16] = {};
const volatile bool filter_dev = false;
const volatile u32 targ_dev = 0;     // the kernel's dev_t (major << 20 | minor)

HASH_MAP(hists, struct hist_key, u64, 10240);

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

    if (targ_tgid && (bpf_get_current_pid_tgid() >> 32) != targ_tgid)
        return 0;
    if (filter_dev && ctx->dev != targ_dev)
        return 0;
    bpf_probe_read_kernel_str(&key.comm, sizeof(key.comm), ctx->comm);
    if (!comm_wanted(key.comm))
        return 0;
    key.slot = log2_slot(ctx->bytes / 1024);
    map_add(&hists, &key, 1);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
