// funclatency: time calls of kernel or user functions (fentry/fexit for one
// kernel function, else kprobe/kretprobe or one kprobe_multi link each way;
// uprobe/uretprobe) into log2 histograms. Each probe attachment's cookie
// (target index + 1) names the function, so one compiled object serves any
// set of functions.
// Without -l only the innermost call of nested ones is timed (bcc's rule);
// with -l N the outermost N levels are.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <pybcc/tool.h>
#include <pybcc/counts.h>
#include <pybcc/extension.h>

#define MAX_LEVEL 32

const volatile u32 targ_tgid = 0;
const volatile u64 unit_div = 1;        // 1: ns, 1000: us, 1000000: ms
const volatile u32 max_level = 0;       // 0: innermost call only
const volatile bool key_func = false;   // a histogram per function
const volatile bool key_pid = false;    // ... and per process
extern bool LINUX_HAS_BPF_COOKIE __kconfig;   // 0 before 5.15: key_func is refused

struct calls {
    u32 depth;          // nesting of traced calls on this thread
    u32 pad;
    u64 ts[MAX_LEVEL];  // entry times of the outermost max_level calls
};

struct hist_key {
    u32 idx;            // function: cookie - 1
    u32 pid;
    u64 slot;
};

HASH_MAP(start, u32, struct calls, 10240);

HASH_MAP(hists, struct hist_key, u64, 10240);

static __always_inline int on_entry(void)
{
    u64 id = bpf_get_current_pid_tgid();
    u32 tid = (u32)id, depth;
    struct calls zero = {}, *c;

    if (targ_tgid && (id >> 32) != targ_tgid)
        return 0;
    c = map_lookup_or_init(&start, &tid, &zero);
    if (!c)
        return 0;
    if (!max_level) {           // a nested call replaces the outer one
        c->ts[0] = bpf_ktime_get_ns();
        c->depth = 1;
        return 0;
    }
    depth = c->depth;
    if (depth < max_level && depth < MAX_LEVEL)
        c->ts[depth] = bpf_ktime_get_ns();
    c->depth = depth + 1;
    return 0;
}

/* ``by_cookie``: the function is the attachment's cookie; else the one traced */
static __always_inline int on_return(void *ctx, bool by_cookie)
{
    u64 id = bpf_get_current_pid_tgid(), now = bpf_ktime_get_ns(), delta;
    u32 tid = (u32)id, depth;
    struct hist_key key = {};
    struct calls *c;

    c = bpf_map_lookup_elem(&start, &tid);
    if (!c || !c->depth)
        return 0;               // called before we started
    if (!max_level) {
        delta = now - c->ts[0];
        bpf_map_delete_elem(&start, &tid);
    } else {
        depth = c->depth - 1;
        c->depth = depth;
        if (depth >= max_level || depth >= MAX_LEVEL)
            return 0;           // deeper than the levels timed
        delta = now - c->ts[depth];
        if (!depth)
            bpf_map_delete_elem(&start, &tid);
    }
    extension_add(delta);       // in ns, as bcc's avg line
    delta /= unit_div;
    if (key_func && by_cookie && LINUX_HAS_BPF_COOKIE)
        key.idx = (u32)bpf_get_attach_cookie(ctx) - 1;
    if (key_pid)
        key.pid = id >> 32;
    key.slot = log2_slot(delta);
    map_add(&hists, &key, 1);
    return 0;
}

SEC("kprobe/funclatency")
int entry_probe(void *ctx) { return on_entry(); }

SEC("kprobe.multi/funclatency")
int entry_multi(void *ctx) { return on_entry(); }

SEC("kprobe/funclatency")
int return_probe(void *ctx) { return on_return(ctx, true); }

SEC("kprobe.multi/funclatency")
int return_multi(void *ctx) { return on_return(ctx, true); }

/* one kernel function: the target is set when the program loads */
SEC("fentry/funclatency")
int entry_fentry(void *ctx) { return on_entry(); }

SEC("fexit/funclatency")
int return_fexit(void *ctx) { return on_return(ctx, false); }

char LICENSE[] SEC("license") = "GPL";
