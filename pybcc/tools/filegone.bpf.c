// filegone: files deleted (unlink, rmdir) or renamed, by whom. Where the
// kernel has kprobes: bcc's kprobes on vfs_unlink/vfs_rmdir/vfs_rename
// (the dentries' names) and kretprobes for the result. Else the syscalls'
// entry (the user's paths, whose last component user space shows) and
// exit (the result).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <pybcc/tool.h>
#include <pybcc/callstash.h>
#include <pybcc/idmap.h>

#define PATH_LEN 256

struct event {
    u32 pid;
    u8 action;              /* 'D' delete, 'R' rename */
    char comm[16];
    char fname[PATH_LEN];       /* a path (syscalls) or a dentry's name (kprobes) */
    char fname2[PATH_LEN];
};
PYBCC_RECORD(event);

const volatile u32 targ_tgid = 0;

HASH_MAP(currdata, u32, struct event, 10240);  /* thread id */

/* Never written: the zeros a thread's event starts from (too big for the stack). */
DEFINE_SCRATCH(struct event, zero_event);

/* The event of the current thread, its comm and pid set, or NULL when
 * filtered out. */
static __always_inline struct event *start(u8 action)
{
    u64 pid_tgid = bpf_get_current_pid_tgid();
    struct event *e;

    if (targ_tgid && (pid_tgid >> 32) != targ_tgid)
        return NULL;
    e = stash_new(&currdata, scratch(&zero_event));
    if (e) {
        e->pid = pid_tgid >> 32;
        e->action = action;
        bpf_get_current_comm(e->comm, sizeof(e->comm));
    }
    return e;
}

/* Emit the current thread's event if the call succeeded. */
static __always_inline int finish(void *ctx, long ret)
{
    struct event *e = stash_get(&currdata);

    if (!e)
        return 0;
    if (ret == 0 && e->fname[0])
        emit_event(ctx, e, sizeof(*e));
    stash_drop(&currdata);
    return 0;
}

static __always_inline int enter_delete(const char *upath)
{
    struct event *e = start('D');

    if (e)
        bpf_probe_read_user_str(e->fname, PATH_LEN, upath);
    return 0;
}

static __always_inline int enter_rename(const char *oldpath, const char *newpath)
{
    struct event *e = start('R');

    if (e) {
        bpf_probe_read_user_str(e->fname, PATH_LEN, oldpath);
        bpf_probe_read_user_str(e->fname2, PATH_LEN, newpath);
    }
    return 0;
}

SEC("tracepoint/syscalls/sys_enter_unlinkat")
int enter_unlinkat(struct trace_event_raw_sys_enter *ctx)
{ return enter_delete((const char *)ctx->args[1]); }

SEC("tracepoint/syscalls/sys_enter_unlink")
int enter_unlink(struct trace_event_raw_sys_enter *ctx)
{ return enter_delete((const char *)ctx->args[0]); }

SEC("tracepoint/syscalls/sys_enter_rmdir")
int enter_rmdir(struct trace_event_raw_sys_enter *ctx)
{ return enter_delete((const char *)ctx->args[0]); }

SEC("tracepoint/syscalls/sys_enter_renameat2")
int enter_renameat2(struct trace_event_raw_sys_enter *ctx)
{ return enter_rename((const char *)ctx->args[1], (const char *)ctx->args[3]); }

SEC("tracepoint/syscalls/sys_enter_renameat")
int enter_renameat(struct trace_event_raw_sys_enter *ctx)
{ return enter_rename((const char *)ctx->args[1], (const char *)ctx->args[3]); }

SEC("tracepoint/syscalls/sys_enter_rename")
int enter_rename_sc(struct trace_event_raw_sys_enter *ctx)
{ return enter_rename((const char *)ctx->args[0], (const char *)ctx->args[1]); }

#define EXIT(sc) \
SEC("tracepoint/syscalls/sys_exit_" #sc) \
int exit_##sc(struct trace_event_raw_sys_exit *ctx) { return finish(ctx, ctx->ret); }

EXIT(unlinkat)
EXIT(unlink)
EXIT(rmdir)
EXIT(renameat2)
EXIT(renameat)
EXIT(rename)

/* --- kprobes (bcc's) ---------------------------------------------------- */

static __always_inline void dentry_name(struct dentry *d, char *name)
{
    bpf_probe_read_kernel_str(name, PATH_LEN, BPF_CORE_READ(d, d_name.name));
}

/* vfs_unlink/vfs_rmdir: (dir, dentry) before 5.12, then (userns or idmap,
 * dir, dentry): see pybcc/idmap.h. */
static __always_inline int kprobe_delete(struct pt_regs *ctx)
{
    /* both read first: a choice of ctx offset is refused by the verifier */
    u64 arg2 = PT_REGS_PARM2(ctx), arg3 = PT_REGS_PARM3(ctx);
    bool idmapped = vfs_takes_idmap();
    struct dentry *d;
    struct event *e = start('D');

    barrier_var(arg2);
    barrier_var(arg3);
    d = (struct dentry *)(idmapped ? arg3 : arg2);

    if (e)
        dentry_name(d, e->fname);
    return 0;
}

SEC("kprobe/vfs_unlink")
int vfs_unlink_kprobe(struct pt_regs *ctx) { return kprobe_delete(ctx); }

SEC("kprobe/vfs_rmdir")
int vfs_rmdir_kprobe(struct pt_regs *ctx) { return kprobe_delete(ctx); }

/* vfs_rename: (old_dir, old_dentry, new_dir, new_dentry, ...) before 5.12,
 * then (struct renamedata *) */
SEC("kprobe/vfs_rename")
int vfs_rename_kprobe(struct pt_regs *ctx)
{
    struct dentry *from, *to;
    struct event *e = start('R');

    if (!e)
        return 0;
    if (bpf_core_type_exists(struct renamedata)) {
        struct renamedata *rd = (void *)PT_REGS_PARM1(ctx);
        from = BPF_CORE_READ(rd, old_dentry);
        to = BPF_CORE_READ(rd, new_dentry);
    } else {
        from = (struct dentry *)PT_REGS_PARM2(ctx);
        to = (struct dentry *)PT_REGS_PARM4(ctx);
    }
    dentry_name(from, e->fname);
    dentry_name(to, e->fname2);
    return 0;
}

SEC("kretprobe/vfs_unlink")
int vfs_unlink_kretprobe(struct pt_regs *ctx) { return finish(ctx, PT_REGS_RC(ctx)); }

SEC("kretprobe/vfs_rmdir")
int vfs_rmdir_kretprobe(struct pt_regs *ctx) { return finish(ctx, PT_REGS_RC(ctx)); }

SEC("kretprobe/vfs_rename")
int vfs_rename_kretprobe(struct pt_regs *ctx) { return finish(ctx, PT_REGS_RC(ctx)); }

char LICENSE[] SEC("license") = "GPL";
