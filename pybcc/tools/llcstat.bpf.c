// llcstat: last-level cache references and misses by process and CPU, from
// hardware cache counters sampled every sample_period events (a perf event
// per CPU for each): each sample adds its period.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <pybcc/tool.h>
#include <pybcc/counts.h>

struct key_t {
    u32 cpu;
    u32 pid;
    u32 tid;        // = pid without -t
    char name[16];
};

const volatile bool per_thread = false;

HASH_MAP(ref_count, struct key_t, u64, 10240);
HASH_MAP(miss_count, struct key_t, u64, 10240);

static __always_inline int count(struct bpf_perf_event_data *ctx, void *map)
{
    u64 id = bpf_get_current_pid_tgid();
    struct key_t key = {};

    key.cpu = bpf_get_smp_processor_id();
    key.pid = id >> 32;
    key.tid = per_thread ? (u32)id : key.pid;
    bpf_get_current_comm(&key.name, sizeof(key.name));
    map_add(map, &key, ctx->sample_period);
    return 0;
}

SEC("perf_event")
int on_cache_miss(struct bpf_perf_event_data *ctx)
{
    return count(ctx, &miss_count);
}

SEC("perf_event")
int on_cache_ref(struct bpf_perf_event_data *ctx)
{
    return count(ctx, &ref_count);
}

char LICENSE[] SEC("license") = "GPL";
