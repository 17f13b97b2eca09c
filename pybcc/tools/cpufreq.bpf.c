// cpufreq: sample the CPUs' clock frequency (a cpu-clock perf event), as
// the last power:cpu_frequency tracepoint set it per CPU, into linear
// histograms system-wide and per command (libbpf-tools' cpufreq).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <pybcc/tool.h>
#include <pybcc/twins.h>
#include <pybcc/counts.h>

#define MAX_CPU_NR 1024
#define MAX_SLOTS 26        // 0 to 5000 MHz
#define STEP_MHZ 200

struct hkey {
    char comm[16];
    u32 slot;       // MHz / STEP_MHZ
};

const volatile bool filter_cg = false;

/* [cpu] its frequency in MHz (the Python side starts it from sysfs) */
ARRAY_MAP(freqs_mhz, u32, u32, MAX_CPU_NR);
/* [slot] the system-wide histogram */
ARRAY_MAP(syswide, u32, u64, MAX_SLOTS);

struct {
    __uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
    __uint(max_entries, 1);
    __type(key, u32);
    __type(value, u32);
} cgroup_map SEC(".maps");

HASH_MAP(hists, struct hkey, u64, 10240);

static __always_inline int on_frequency(u32 state, u32 cpu)
{
    if (filter_cg && !bpf_current_task_under_cgroup(&cgroup_map, 0))
        return 0;
    u32 mhz = state / 1000;

    bpf_map_update_elem(&freqs_mhz, &cpu, &mhz, BPF_ANY);
    return 0;
}

BTF_RAW_TP(frequency, cpu_frequency, on_frequency((u32)ctx[0], (u32)ctx[1]))

SEC("perf_event")
int do_sample(void *ctx)
{
    u32 cpu = bpf_get_smp_processor_id(), *mhz;
    struct hkey key = {};
    u64 *n;

    if (filter_cg && !bpf_current_task_under_cgroup(&cgroup_map, 0))
        return 0;
    mhz = bpf_map_lookup_elem(&freqs_mhz, &cpu);
    if (!mhz || !*mhz)
        return 0;
    key.slot = *mhz / STEP_MHZ;
    if (key.slot >= MAX_SLOTS)
        key.slot = MAX_SLOTS - 1;
    n = bpf_map_lookup_elem(&syswide, &key.slot);
    if (n)
        __sync_fetch_and_add(n, 1);
    if (!(u32)bpf_get_current_pid_tgid())
        return 0;       // idle
    bpf_get_current_comm(&key.comm, sizeof(key.comm));
    map_add(&hists, &key, 1);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
