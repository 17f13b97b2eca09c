// OOM kills by the victim's command name (oom:mark_victim).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <pybcc/twins.h>
#include <exporter/metrics.h>

struct comm_key {
    char comm[16];
};

METRIC_MAP(kills, struct comm_key, u64, 1024);

static __always_inline int on_victim(struct task_struct *task)
{
    struct comm_key key = {};

    BPF_CORE_READ_STR_INTO(&key.comm, task, comm);
    counter_add(&kills, &key, 1);
    return 0;
}

/* mark_victim(struct task_struct *task, uid_t uid) */
BTF_RAW_TP(mark_victim, mark_victim, on_victim((struct task_struct *)ctx[0]))

char LICENSE[] SEC("license") = "GPL";
