// ustat: count the language runtimes' events (method calls, GCs, object
// allocations, class loads, exceptions, threads) per process. Every probe
// runs one program; the attachment's cookie is the event's category.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "pybcc/counts.h"
#include "pybcc/langs.h"

struct stat_key {
    u32 tgid;
    u32 category;       /* index in langs.py CATEGORIES */
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 10240);
    __type(key, struct stat_key);
    __type(value, u64);
} counts SEC(".maps");

SEC("usdt")
int count_event(struct pt_regs *ctx)
{
    struct stat_key k = {bpf_get_current_pid_tgid() >> 32, bpf_usdt_cookie(ctx)};

    map_add(&counts, &k, 1);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
