// dcsnoop: dcache lookups that miss (and, with -a, every reference), as
// bcc: kprobe/kretprobe on d_lookup (a NULL return is a miss) and a kprobe
// on lookup_fast for references. No tracepoint sees the dcache.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <pybcc/tool.h>

#define MAX_FILE_LEN 64     /* bcc's */

enum lookup_type { LOOKUP_MISS, LOOKUP_REFERENCE };

struct event {
    u32 pid;
    u32 type;
    char comm[16];
    char filename[MAX_FILE_LEN];
};
PYBCC_RECORD(event);

struct entry_t {
    char name[MAX_FILE_LEN];
};

HASH_MAP(entrybypid, u32, struct entry_t, 10240);  /* thread id */

static __always_inline int submit(void *ctx, const char *name, u32 type)
{
    struct event e = {.pid = bpf_get_current_pid_tgid() >> 32, .type = type};

    bpf_get_current_comm(e.comm, sizeof(e.comm));
    bpf_probe_read_kernel_str(e.filename, sizeof(e.filename), name);
    emit_event(ctx, &e, sizeof(e));
    return 0;
}

/* lookup_fast(struct nameidata *nd, ...): the component is nd->last */
SEC("kprobe/lookup_fast")
int trace_fast(struct pt_regs *ctx)
{
    struct nameidata *nd = (void *)PT_REGS_PARM1(ctx);

    return submit(ctx, BPF_CORE_READ(nd, last.name), LOOKUP_REFERENCE);
}

/* d_lookup(const struct dentry *parent, const struct qstr *name) */
SEC("kprobe/d_lookup")
int d_lookup_entry(struct pt_regs *ctx)
{
    const struct qstr *name = (void *)PT_REGS_PARM2(ctx);
    u32 tid = (u32)bpf_get_current_pid_tgid();
    struct entry_t entry = {};

    bpf_probe_read_kernel_str(entry.name, sizeof(entry.name), BPF_CORE_READ(name, name));
    bpf_map_update_elem(&entrybypid, &tid, &entry, BPF_ANY);
    return 0;
}

SEC("kretprobe/d_lookup")
int d_lookup_return(struct pt_regs *ctx)
{
    u32 tid = (u32)bpf_get_current_pid_tgid();
    struct entry_t *ep = bpf_map_lookup_elem(&entrybypid, &tid);

    if (!ep)
        return 0;
    if (PT_REGS_RC(ctx) == 0)
        submit(ctx, ep->name, LOOKUP_MISS);
    bpf_map_delete_elem(&entrybypid, &tid);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
