// ustat: count the language runtimes' events (method calls, GCs, object
// allocations, class loads, exceptions, threads) per process. Every probe
// runs one program; the attachment's cookie is the event's category.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "pybcc/counts.h"
#include "pybcc/langs.h"
#include "pybcc/maps.h"

struct stat_key {
    u32 tgid;
    u32 category;       /* index in langs.py CATEGORIES */
};

HASH_MAP(counts, struct stat_key, u64, 10240);

SEC("usdt")
int count_event(struct pt_regs *ctx)
{
    struct stat_key k = {bpf_get_current_pid_tgid() >> 32, bpf_usdt_cookie(ctx)};

    map_add(&counts, &k, 1);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
