// gethostlatency: time getaddrinfo/gethostbyname/gethostbyname2 in libc
// with a uprobe (records host and start time per thread) and a uretprobe
// (sends the latency).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <pybcc/tool.h>

#define HOST_LEN 80

struct event {
    u64 delta_ns;
    u32 pid;
    u32 pad;
    char comm[16];
    char host[HOST_LEN];
};
PYBCC_RECORD(event);

struct start_t {
    u64 ts;
    char host[HOST_LEN];
};

const volatile u32 targ_pid = 0;

HASH_MAP(start, u32, struct start_t, 10240);

SEC("uprobe/libc:getaddrinfo")
int BPF_UPROBE(lookup_entry, const char *name)
{
    u64 id = bpf_get_current_pid_tgid();
    u32 tid = (u32)id;
    struct start_t s = {};

    if (!name)
        return 0;
    if (targ_pid && (id >> 32) != targ_pid)
        return 0;
    bpf_probe_read_user_str(s.host, sizeof(s.host), name);
    s.ts = bpf_ktime_get_ns();
    bpf_map_update_elem(&start, &tid, &s, BPF_ANY);
    return 0;
}

SEC("uretprobe/libc:getaddrinfo")
int BPF_URETPROBE(lookup_return)
{
    u64 id = bpf_get_current_pid_tgid();
    u32 tid = (u32)id;
    struct start_t *s = bpf_map_lookup_elem(&start, &tid);
    struct event e = {};

    if (!s)
        return 0;
    e.delta_ns = bpf_ktime_get_ns() - s->ts;
    e.pid = id >> 32;
    bpf_get_current_comm(e.comm, sizeof(e.comm));
    __builtin_memcpy(e.host, s->host, sizeof(e.host));
    emit_event(ctx, &e, sizeof(e));
    bpf_map_delete_elem(&start, &tid);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
