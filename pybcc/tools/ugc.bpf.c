// ugc: garbage collections of a process (its runtime's GC begin/end USDT
// probes) with their duration. The cookies (pybcc/tools/lib/langs.py GC)
// say which probe pair it is and which arguments to keep: two numbers at
// begin, two numbers and two strings at end.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "pybcc/tool.h"
#include "pybcc/langs.h"

const volatile u64 min_ns = 0;      /* -M */

struct gc_key {
    u64 pid_tgid;
    u64 index;
    u64 which;      /* Java: the memory pool (its name's address), else 0 */
};

struct gc_start {
    u64 start_ns;
    u64 field1;
    u64 field2;
};

struct event {
    u64 ts;             /* at the end */
    u64 probe_index;
    u64 elapsed_ns;
    u64 field1;         /* kept at begin */
    u64 field2;
    u64 field3;         /* read at end */
    u64 field4;
    char string1[32];
    char string2[32];
};
PYBCC_RECORD(event);

HASH_MAP(starts, struct gc_key, struct gc_start, 10240);

/* cookie: probe index (bits 0-7), 4-bit argument numbers from bit 8, and
 * at bit 32 the argument that tells apart begin/end pairs that nest on a
 * thread (one per Java memory pool) */
#define NTH_ARG(c, n) (((c) >> (8 + 4 * (n))) & 0xf)
#define WHICH_ARG(c) (((c) >> 32) & 0xf)

SEC("usdt")
int gc_begin(struct pt_regs *ctx)
{
    u64 c = bpf_usdt_cookie(ctx);
    struct gc_key key = {bpf_get_current_pid_tgid(), c & 0xff, lang_arg(ctx, WHICH_ARG(c))};
    struct gc_start s = {};

    s.start_ns = bpf_ktime_get_ns();
    s.field1 = lang_arg(ctx, NTH_ARG(c, 0));
    s.field2 = lang_arg(ctx, NTH_ARG(c, 1));
    bpf_map_update_elem(&starts, &key, &s, BPF_ANY);
    return 0;
}

SEC("usdt")
int gc_end(struct pt_regs *ctx)
{
    u64 c = bpf_usdt_cookie(ctx);
    struct gc_key key = {bpf_get_current_pid_tgid(), c & 0xff, lang_arg(ctx, WHICH_ARG(c))};
    struct gc_start *s = bpf_map_lookup_elem(&starts, &key);
    struct event e = {};

    if (!s)
        return 0;   /* missed the begin on this thread */
    e.ts = bpf_ktime_get_ns();
    e.elapsed_ns = e.ts - s->start_ns;
    e.probe_index = key.index;
    e.field1 = s->field1;
    e.field2 = s->field2;
    bpf_map_delete_elem(&starts, &key);
    if (e.elapsed_ns < min_ns)
        return 0;
    e.field3 = lang_arg(ctx, NTH_ARG(c, 0));
    e.field4 = lang_arg(ctx, NTH_ARG(c, 1));
    lang_string(ctx, e.string1, sizeof(e.string1), NTH_ARG(c, 2), NTH_ARG(c, 3));
    lang_string(ctx, e.string2, sizeof(e.string2), NTH_ARG(c, 4), NTH_ARG(c, 5));
    emit_event(ctx, &e, sizeof(e));
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
