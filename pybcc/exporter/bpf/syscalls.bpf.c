// System calls by number, with errors by errno, optionally per cgroup.
// raw_syscalls:sys_exit as tp_btf/raw_tp twins: the syscall number is read
// from the saved registers (orig_ax on x86, syscallno on arm64).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <pybcc/twins.h>
#include <exporter/metrics.h>

#define MAX_ERRNO 4095

const volatile bool by_cgroup = false;

struct syscall_key {
    u64 cgroup;         /* cgroup v2 id, 0 unless by_cgroup */
    u32 nr;
    u32 err;            /* errno of a failed call, 0 for success */
};

METRIC_MAP(calls, struct syscall_key, u64, 8192);

struct pt_regs___arm64 {
    s32 syscallno;
} __attribute__((preserve_access_index));

struct pt_regs___x86 {
    unsigned long orig_ax;
} __attribute__((preserve_access_index));

static __always_inline int on_exit(struct pt_regs *regs, long ret)
{
    struct pt_regs___x86 *x86 = (void *)regs;
    struct pt_regs___arm64 *arm64 = (void *)regs;
    struct syscall_key key = {};

    if (bpf_core_field_exists(x86->orig_ax))
        key.nr = BPF_CORE_READ(x86, orig_ax);
    else if (bpf_core_field_exists(arm64->syscallno))
        key.nr = BPF_CORE_READ(arm64, syscallno);
    if (key.nr == (u32)-1)
        return 0;       // not a system call (a signal return path)
    if (ret < 0 && ret >= -MAX_ERRNO)
        key.err = -ret;
    if (by_cgroup)
        key.cgroup = bpf_get_current_cgroup_id();
    counter_add(&calls, &key, 1);
    return 0;
}

/* sys_exit(struct pt_regs *regs, long ret) */
BTF_RAW_TP(sys_exit, sys_exit, on_exit((struct pt_regs *)ctx[0], (long)ctx[1]))

char LICENSE[] SEC("license") = "GPL";
