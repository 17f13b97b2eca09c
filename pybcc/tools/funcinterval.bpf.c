// funcinterval: the time between consecutive calls of functions or hits of
// tracepoints (all matched targets together, as bcc's), as a log2 histogram.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <pybcc/tool.h>
#include <pybcc/counts.h>

const volatile u32 targ_tgid = 0;
const volatile u64 unit_div = 1;        // 1: ns, 1000: us, 1000000: ms

struct hist_key {
    u64 slot;
};

ARRAY_MAP(last, u32, u64, 1);            // time of the previous call; 0: none yet

HASH_MAP(hists, struct hist_key, u64, 128);

/* ``exchange``: swap the time in atomically (BPF_XCHG, Linux 5.12+; older
 * verifiers refuse the whole program), else read and write it as bcc does,
 * which may lose one of two calls at the same moment. */
static __always_inline int on_call(bool exchange)
{
    u64 now = bpf_ktime_get_ns(), before, *lastp;
    struct hist_key key = {};
    u32 zero = 0;

    if (targ_tgid && (bpf_get_current_pid_tgid() >> 32) != targ_tgid)
        return 0;
    lastp = bpf_map_lookup_elem(&last, &zero);
    if (!lastp)
        return 0;
    if (exchange) {
        before = __sync_lock_test_and_set(lastp, now);
    } else {
        before = *lastp;
        *lastp = now;
    }
    if (!before || now < before)
        return 0;
    key.slot = log2_slot((now - before) / unit_div);
    map_add(&hists, &key, 1);
    return 0;
}

SEC("kprobe/funcinterval")
int call_probe(void *ctx) { return on_call(true); }

SEC("kprobe.multi/funcinterval")
int call_multi(void *ctx) { return on_call(true); }

SEC("tracepoint/funcinterval/any")
int call_tracepoint(void *ctx) { return on_call(true); }

/* the twins for kernels without BPF_XCHG (kprobe.multi came later: 5.18) */
SEC("kprobe/funcinterval")
int call_probe_plain(void *ctx) { return on_call(false); }

SEC("tracepoint/funcinterval/any")
int call_tracepoint_plain(void *ctx) { return on_call(false); }

char LICENSE[] SEC("license") = "GPL";
