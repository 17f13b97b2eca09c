// ucalls: count a process's method calls (USDT entry/return probes of its
// language runtime) and, with -S, its syscalls (raw_syscalls tracepoints);
// with -L, the time from entry to return (recursive calls of the same
// method are timed from the innermost entry, as bcc's are).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "pybcc/langs.h"
#include "pybcc/maps.h"

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

HASH_MAP(calls, struct method_name, struct info, 10240);

HASH_MAP(entry, struct entry_key, u64, 10240);

HASH_MAP(syscalls, u64, struct info, 1024);

HASH_MAP(sysentry, u64, struct sys_entry, 10240);

/* the key does not fit the 512-byte stack twice: one per CPU */
PERCPU_ARRAY_MAP(scratch_key, u32, struct entry_key, 1);

static __always_inline void add(void *map, void *key, u64 ns)
{
    struct info zero = {}, *info = map_lookup_or_init(map, key, &zero);

    if (!info)
        return;
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
