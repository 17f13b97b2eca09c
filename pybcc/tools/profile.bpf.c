// profile: sample stacks at a timed interval (a software cpu-clock perf
// event on each CPU) and count them by (pid, comm, user stack, kernel stack).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <pybcc/tool.h>
#define STACK_STORAGE_SIZE 16384     // --stack-storage-size
#include <pybcc/stacks.h>
#include <pybcc/containers.h>

struct key_t {
    u32 pid;
    s32 user_stack_id;
    s32 kernel_stack_id;
    u32 pad;
    u64 kernel_ip;
    char name[16];
};

enum { FILTER_NONE, FILTER_TGID, FILTER_TID };

const volatile int filter_mode = FILTER_NONE;
const volatile bool include_idle = false;

STACK_COUNTS(struct key_t, 40960);

/* -p/-L: the pids or tids to sample */
HASH_MAP(targets, u32, u8, 1024);

PERCPU_ARRAY_MAP(dropped, u32, u64, 1);

SEC("perf_event")
int do_sample(struct bpf_perf_event_data *ctx)
{
    u64 id = bpf_get_current_pid_tgid(), *n;
    u32 tgid = id >> 32, tid = (u32)id, zero = 0;
    struct key_t key = {};

    if (tid == 0 && !include_idle)
        return 0;
    if (filter_mode == FILTER_TGID && !bpf_map_lookup_elem(&targets, &tgid))
        return 0;
    if (filter_mode == FILTER_TID && !bpf_map_lookup_elem(&targets, &tid))
        return 0;
    if (container_filtered())
        return 0;

    key.pid = tgid;
    bpf_get_current_comm(&key.name, sizeof(key.name));
    get_stack_ids(ctx, &key.user_stack_id, &key.kernel_stack_id);
    if (key.kernel_stack_id >= 0) {
        u64 ip = PT_REGS_IP(&ctx->regs);
        if ((s64)ip < 0)        // a kernel address (upper half)
            key.kernel_ip = ip;
    }

    if (!map_add(&counts, &key, 1) && (n = bpf_map_lookup_elem(&dropped, &zero)))
        *n += 1;    // counts is full
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
