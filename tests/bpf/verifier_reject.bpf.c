#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 1);
    __type(key, u32);
    __type(value, u64);
} vals SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getppid")
int deref_without_check(void *ctx)
{
    u32 key = 0;
    u64 *v = bpf_map_lookup_elem(&vals, &key);
    return *v;   /* the verifier wants a NULL check here */
}

SEC("raw_tp/sys_enter")
int fine(void *ctx)
{
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
