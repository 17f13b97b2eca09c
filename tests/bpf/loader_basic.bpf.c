// Maps, global data (.bss/.data/.rodata), a const volatile filter, a
// bpf-to-bpf call and a CO-RE chain read, on a cheap syscall tracepoint.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 128);
    __type(key, u32);
    __type(value, u64);
} counts SEC(".maps");

const volatile int target_tgid = 0;
const volatile int weight = 1;
int last_ppid;            /* .bss */
int calls_data = 100;     /* .data */

static __noinline int scaled(int x)
{
    return x * weight;
}

__noinline int global_helper(int x)
{
    return scaled(x) + 0;
}

SEC("tracepoint/syscalls/sys_enter_getppid")
int count_getppid(void *ctx)
{
    u32 tgid = bpf_get_current_pid_tgid() >> 32;
    u64 *v, init = 0;

    if (target_tgid && tgid != target_tgid)
        return 0;
    struct task_struct *task = (void *)bpf_get_current_task();
    last_ppid = BPF_CORE_READ(task, real_parent, tgid);
    calls_data++;
    v = bpf_map_lookup_elem(&counts, &tgid);
    if (!v) {
        bpf_map_update_elem(&counts, &tgid, &init, BPF_NOEXIST);
        v = bpf_map_lookup_elem(&counts, &tgid);
        if (!v)
            return 0;
    }
    __sync_fetch_and_add(v, global_helper(1));
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
