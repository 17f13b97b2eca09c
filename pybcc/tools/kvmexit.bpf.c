// kvmexit: KVM exits counted by thread and exit reason, from the
// kvm:kvm_exit tracepoint (it runs in the vCPU thread).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <pybcc/tool.h>
#include <pybcc/counts.h>

/* kvm:kvm_exit's record, as far as it is read: exit_reason has been the
 * first field after the common header in every kernel. */
struct kvm_exit_args {
    u64 common;
    u32 exit_reason;
};

struct key_t {
    u32 tgid;
    u32 tid;
    u32 reason;
};

#define MAX_TIDS 8

const volatile u32 targ_tgid = 0;
const volatile u32 targ_tids[MAX_TIDS] = {};        // -t/-T/-v; 0: unused

HASH_MAP(counts, struct key_t, u64, 10240);

static __always_inline bool tid_wanted(u32 tid)
{
    if (!targ_tids[0])
        return true;
    for (int i = 0; i < MAX_TIDS; i++)
        if (targ_tids[i] == tid)
            return true;
    return false;
}

SEC("tracepoint/kvm/kvm_exit")
int kvm_exit(struct kvm_exit_args *args)
{
    u64 id = bpf_get_current_pid_tgid();
    struct key_t key = {.tgid = id >> 32, .tid = (u32)id, .reason = args->exit_reason};

    if ((targ_tgid && key.tgid != targ_tgid) || !tid_wanted(key.tid))
        return 0;
    map_add(&counts, &key, 1);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
