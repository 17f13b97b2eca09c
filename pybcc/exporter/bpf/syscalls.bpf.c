// System calls by number, with errors by errno, optionally per cgroup.
// raw_syscalls:sys_exit; the syscall number is read from the saved
// registers (orig_ax on x86, syscallno on arm64).
//
// This hook runs on every system call of the machine, so it is kept cheap:
// without by_cgroup, calls are counted in a per-CPU array indexed by number
// (no hashing, no atomics) and only failures go to a hash map; the tp_btf
// program reads the registers directly, the raw_tp twin (older kernels)
// through probe reads.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <exporter/metrics.h>

#define MAX_ERRNO 4095
#define MAX_SYSCALLS 1024

const volatile bool by_cgroup = false;

struct syscall_key {
    u64 cgroup;         /* cgroup v2 id, 0 unless by_cgroup */
    u32 nr;
    u32 err;            /* errno of a failed call, 0 for success */
};

/* all calls by number (without by_cgroup) */
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, MAX_SYSCALLS);
    __type(key, u32);
    __type(value, u64);
} calls_by_nr SEC(".maps");

/* by_cgroup: all calls; otherwise the failed ones */
METRIC_MAP(calls, struct syscall_key, u64, 8192);

struct pt_regs___arm64 {
    s32 syscallno;
} __attribute__((preserve_access_index));

struct pt_regs___x86 {
    unsigned long orig_ax;
} __attribute__((preserve_access_index));

static __always_inline int count(u32 nr, long ret)
{
    struct syscall_key key = {};
    u64 *n;

    if (nr >= MAX_SYSCALLS)
        return 0;       // -1: not a system call (a signal return path)
    if (ret < 0 && ret >= -MAX_ERRNO)
        key.err = -ret;
    if (by_cgroup) {
        key.cgroup = bpf_get_current_cgroup_id();
    } else {
        n = bpf_map_lookup_elem(&calls_by_nr, &nr);
        if (n)
            *n += 1;    // per-CPU: no atomic needed
        if (!key.err)
            return 0;
    }
    key.nr = nr;
    counter_add(&calls, &key, 1);
    return 0;
}

/* sys_exit(struct pt_regs *regs, long ret) */
SEC("tp_btf/sys_exit")
int sys_exit_btf(u64 *ctx)
{
    struct pt_regs___x86 *x86 = (void *)ctx[0];
    struct pt_regs___arm64 *arm64 = (void *)ctx[0];

    if (bpf_core_field_exists(x86->orig_ax))
        return count(x86->orig_ax, (long)ctx[1]);
    return count(arm64->syscallno, (long)ctx[1]);
}

SEC("raw_tp/sys_exit")
int sys_exit_raw(u64 *ctx)
{
    struct pt_regs___x86 *x86 = (void *)ctx[0];
    struct pt_regs___arm64 *arm64 = (void *)ctx[0];

    if (bpf_core_field_exists(x86->orig_ax))
        return count(BPF_CORE_READ(x86, orig_ax), (long)ctx[1]);
    return count(BPF_CORE_READ(arm64, syscallno), (long)ctx[1]);
}

char LICENSE[] SEC("license") = "GPL";
