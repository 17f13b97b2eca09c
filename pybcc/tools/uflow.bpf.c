// uflow: each method entry and return of a process (its runtime's USDT
// probes) as an event with the thread's call depth, for an indented flow.
// -C/-M keep only classes/methods starting with a prefix; the depth counts
// the calls that pass the filter, as bcc's does.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "pybcc/tool.h"
#include "pybcc/langs.h"

#define RETURN_FLAG (1ULL << 63)

const volatile char class_prefix[LANG_STR] = {};    /* "": any class */
const volatile char method_prefix[LANG_STR] = {};

struct event {
    u64 depth;          /* the top bit set for a return */
    u64 pid_tgid;
    u64 ts;
    u32 cpu;
    struct method_name m;
};
PYBCC_RECORD(event);

HASH_MAP(depths, u64, u64, 10240);

DEFINE_SCRATCH(struct event, scratch_event);

static __always_inline bool starts_with(const char *s, const volatile char *prefix)
{
    for (int i = 0; i < LANG_STR && prefix[i]; i++)
        if (s[i] != prefix[i])
            return false;
    return true;
}

SEC("usdt")
int method_event(struct pt_regs *ctx)
{
    bool is_return = bpf_usdt_cookie(ctx) & LANG_RETURN;
    struct event *e = scratch(&scratch_event);
    u64 *depth, zero = 0;

    if (!e)
        return 0;
    __builtin_memset(e, 0, sizeof(*e));
    lang_method(ctx, &e->m);
    if (!starts_with(e->m.clazz, class_prefix) || !starts_with(e->m.method, method_prefix))
        return 0;
    e->pid_tgid = bpf_get_current_pid_tgid();
    depth = map_lookup_or_init(&depths, &e->pid_tgid, &zero);
    if (!depth)
        return 0;
    if (is_return) {
        e->depth = *depth | RETURN_FLAG;
        if (*depth)
            *depth -= 1;
    } else {
        *depth += 1;
        e->depth = *depth;
    }
    e->ts = bpf_ktime_get_ns();
    e->cpu = bpf_get_smp_processor_id();
    emit_event(ctx, e, sizeof(*e));
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
