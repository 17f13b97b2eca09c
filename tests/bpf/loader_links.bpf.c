// Map-in-map and prog-array slots initialised in .maps; kconfig externs.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

extern u32 LINUX_KERNEL_VERSION __kconfig;
extern bool CONFIG_BPF_SYSCALL __kconfig;
extern int CONFIG_PYBCC_NOT_A_REAL_OPTION __kconfig __weak;

struct inner {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, u32);
    __type(value, u64);
} inner_a SEC(".maps"), inner_b SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
    __uint(max_entries, 2);
    __type(key, u32);
    __array(values, struct inner);
} outer SEC(".maps") = {
    .values = { [0] = &inner_a, [1] = &inner_b },
};

u32 seen_version;
int seen_bpf_syscall;
int seen_missing = -1;

SEC("tracepoint/syscalls/sys_enter_getppid")
int tail_target(void *ctx)
{
    return 0;
}

struct {
    __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
    __uint(max_entries, 2);
    __type(key, u32);
    __array(values, int (void *));
} jumps SEC(".maps") = {
    .values = { [1] = (void *)&tail_target },
};

SEC("tracepoint/syscalls/sys_enter_getppid")
int use_inner(void *ctx)
{
    u32 k0 = 0, k1 = 1;
    void *m = bpf_map_lookup_elem(&outer, &k1);
    if (m) {
        u64 *v = bpf_map_lookup_elem(m, &k0);
        if (v)
            __sync_fetch_and_add(v, 1);
    }
    seen_version = LINUX_KERNEL_VERSION;
    seen_bpf_syscall = CONFIG_BPF_SYSCALL;
    seen_missing = CONFIG_PYBCC_NOT_A_REAL_OPTION;
    bpf_tail_call(ctx, &jumps, 0);   /* slot 0 empty: falls through */
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
