// A custom program for the exporter tests: lseek() calls by comm and
// whence, and their offsets as two histograms (exporter's struct hist, and
// libbpf-tools' slot-in-key layout).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <exporter/metrics.h>

struct call_key {
    char comm[16];
    u32 whence;
    u32 pad;
};

struct slot_key {
    char comm[16];
    u32 whence;
    u32 slot;
};

METRIC_MAP(calls, struct call_key, u64, 256);
METRIC_MAP(offsets, struct call_key, struct hist, 256);
METRIC_MAP(offset_slots, struct slot_key, u64, 1024);

SEC("tracepoint/syscalls/sys_enter_lseek")
int on_lseek(struct trace_event_raw_sys_enter *ctx)
{
    struct call_key key = {};
    struct slot_key sk = {};
    u64 offset = ctx->args[1];

    bpf_get_current_comm(&key.comm, sizeof(key.comm));
    key.whence = ctx->args[2];
    counter_add(&calls, &key, 1);
    hist_add(&offsets, &key, offset);
    __builtin_memcpy(sk.comm, key.comm, sizeof(sk.comm));
    sk.whence = key.whence;
    sk.slot = bit_width(offset);
    counter_add(&offset_slots, &sk, 1);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
