// ucalls: count a process's method calls (USDT entry/return probes of its
// language runtime) and, with -S, its syscalls (raw_syscalls tracepoints);
// with -L, the time from entry to return (recursive calls of the same
// method are timed from the innermost entry, as bcc's are).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "pybcc/langs.h"

const volatile u32 targ_pid = 0;
const volatile bool latency = false;

struct info {
    u64 num_calls;
    u64 total_ns;
};

struct entry_key {
    u64 pid_tgid;
    struct method_name method;
};

struct sys_entry {
    u64 ts;
    u64 id;
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 10240);
    __type(key, struct method_name);
    __type(value, struct info);
} calls SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 10240);
    __type(key, struct entry_key);
    __type(value, u64);
} entry SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 1024);
    __type(key, u64);
    __type(value, struct info);
} syscalls SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 10240);
    __type(key, u64);
    __type(value, struct sys_entry);
} sysentry SEC(".maps");

/* the key does not fit the 512-byte stack twice: one per CPU */
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, u32);
    __type(value, struct entry_key);
} scratch_key SEC(".maps");

static __always_inline void add(void *map, void *key, u64 ns)
{
    struct info *info = bpf_map_lookup_elem(map, key), zero = {};

    if (!info) {
        bpf_map_update_elem(map, key, &zero, BPF_NOEXIST);
        info = bpf_map_lookup_elem(map, key);
        if (!info)
            return;
    }
    __sync_fetch_and_add(&info->num_calls, 1);
    if (ns)
        __sync_fetch_and_add(&info->total_ns, ns);
}

static __always_inline struct entry_key *method_key(struct pt_regs *ctx)
{
    u32 zero = 0;
    struct entry_key *k = bpf_map_lookup_elem(&scratch_key, &zero);

    if (!k)
        return 0;
    __builtin_memset(k, 0, sizeof(*k));
    k->pid_tgid = bpf_get_current_pid_tgid();
    lang_method(ctx, &k->method);
    return k;
}

SEC("usdt")
int method_entry(struct pt_regs *ctx)
{
    struct entry_key *k = method_key(ctx);
    u64 ts;

    if (!k)
        return 0;
    if (!latency) {
        add(&calls, &k->method, 0);
        return 0;
    }
    ts = bpf_ktime_get_ns();
    bpf_map_update_elem(&entry, k, &ts, BPF_ANY);
    return 0;
}

SEC("usdt")
int method_return(struct pt_regs *ctx)
{
    struct entry_key *k = method_key(ctx);
    u64 *start;

    if (!k)
        return 0;
    start = bpf_map_lookup_elem(&entry, k);
    if (!start)
        return 0;   /* missed the entry */
    add(&calls, &k->method, bpf_ktime_get_ns() - *start);
    bpf_map_delete_elem(&entry, k);
    return 0;
}

SEC("tracepoint/raw_syscalls/sys_enter")
int sys_enter(struct trace_event_raw_sys_enter *ctx)
{
    u64 id = bpf_get_current_pid_tgid(), nr = ctx->id;
    struct sys_entry e = {};

    if ((id >> 32) != targ_pid)
        return 0;
    if (!latency) {
        add(&syscalls, &nr, 0);
        return 0;
    }
    e.ts = bpf_ktime_get_ns();
    e.id = nr;
    bpf_map_update_elem(&sysentry, &id, &e, BPF_ANY);
    return 0;
}

SEC("tracepoint/raw_syscalls/sys_exit")
int sys_exit(struct trace_event_raw_sys_exit *ctx)
{
    u64 id = bpf_get_current_pid_tgid();
    struct sys_entry *e;

    if ((id >> 32) != targ_pid)
        return 0;
    e = bpf_map_lookup_elem(&sysentry, &id);
    if (!e)
        return 0;
    add(&syscalls, &e->id, bpf_ktime_get_ns() - e->ts);
    bpf_map_delete_elem(&sysentry, &id);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
