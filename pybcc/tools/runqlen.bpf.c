// runqlen: sample each CPU's run queue length (a software cpu-clock perf
// event), read from the CPU's struct rq, found through the current task's
// cfs_rq with CO-RE.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <pybcc/tool.h>
#include <pybcc/runqueue.h>
#include <pybcc/counts.h>

#define MAX_SLOT 1024

struct key_t {
    u32 cpu;
    u32 slot;
};

HASH_MAP(dist, struct key_t, u64, 65536);

/* Count every runnable task of the CPU (see runqueue.h). */
SEC("perf_event")
int do_sample(void *ctx)
{
    struct key_t key = {};
    u32 len = cpu_nr_running();

    // the running task is counted too: 0 is idle, 1 one task running
    if (len > 0)
        len--;
    key.cpu = bpf_get_smp_processor_id();
    key.slot = len < MAX_SLOT ? len : MAX_SLOT;
    map_add(&dist, &key, 1);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
