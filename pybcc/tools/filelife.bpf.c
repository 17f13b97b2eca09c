// filelife: how long files lived, from creation to deletion. A successful
// open/openat/openat2/creat whose file has FMODE_CREATED marks a birth
// (keyed by the file's name, as the dentry gives it); unlink/unlinkat of
// that name reports the age. bcc keys on the dentry with kprobes.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <pybcc/tool.h>
#include <pybcc/files.h>

#define NAME_LEN 64
#define PATH_LEN 256
#define FMODE_CREATED 0x100000
#define AT_REMOVEDIR 0x200

struct event {
    u64 delta_ms;
    u32 pid;
    char comm[16];
    char fname[NAME_LEN];
};
PYBCC_RECORD(event);

struct born {
    u64 ts;
    char fname[NAME_LEN];
};

const volatile u32 targ_pid = 0;
const volatile int nr_unlink = -1;      /* unlink's syscall number; none on arm64 */

/* Keyed by a hash of the name: the key of a name seen as a dentry's and as
 * the tail of a user's path is then the same without copying it around. */
HASH_MAP(birth, u64, struct born, 8192);

DEFINE_SCRATCH(char[PATH_LEN], path_scratch);

#define FNV_OFFSET 14695981039346656037ULL
#define FNV_PRIME 1099511628211ULL

/* FNV-1a of the last '/'-separated component of s[0..end) (``path``; else
 * s is one name, which has no '/'), stopping at a NUL; ``mask`` (the
 * buffer's size less one, a power of two) keeps each index inside the
 * buffer. Only the last NAME_LEN bytes are read (a loop of NAME_LEN steps,
 * not PATH_LEN: the verifier walks each step): a name as long was cut to
 * NAME_LEN - 1 bytes where it was made (created()'s dentry name), so it
 * could not match anyway. */
static __always_inline u64 name_hash(const char *s, int end, int mask, bool path)
{
    int from = end > NAME_LEN ? end - NAME_LEN : 0;
    u64 h = FNV_OFFSET;

    for (int i = 0; i < NAME_LEN; i++) {
        int k = from + i;
        char c;

        if (k >= end)
            break;
        c = s[k & mask];
        if (!c)
            break;
        if (path && c == '/')
            h = FNV_OFFSET;
        else
            h = (h ^ (u8)c) * FNV_PRIME;
    }
    return h;
}

static __always_inline bool skip(void)
{
    return targ_pid && (bpf_get_current_pid_tgid() >> 32) != targ_pid;
}

static __always_inline int created(long fd)
{
    struct born b = {};
    struct file *f;
    u64 key;
    int len;

    if (fd < 0 || skip())
        return 0;
    f = current_fd_file(fd);
    if (!f || !(BPF_CORE_READ(f, f_mode) & FMODE_CREATED))
        return 0;
    len = bpf_probe_read_kernel_str(b.fname, sizeof(b.fname),
                                    BPF_CORE_READ(f, f_path.dentry, d_name.name));
    if (len <= 1)
        return 0;
    key = name_hash(b.fname, len - 1, NAME_LEN - 1, false);
    b.ts = bpf_ktime_get_ns();
    bpf_map_update_elem(&birth, &key, &b, BPF_ANY);
    return 0;
}

/* open, openat, openat2 and creat all return the fd: one program, attached
 * by filelife.py to each of their exit tracepoints (one to verify, not four) */
SEC("tracepoint/syscalls/sys_exit_openat")
int exit_open_any(struct trace_event_raw_sys_exit *ctx) { return created(ctx->ret); }

/* A user path being unlinked: report the file of its last component's name. */
static __always_inline int deleted(void *ctx, const char *upath)
{
    char *path = scratch(&path_scratch);
    struct event e = {};
    struct born *b;
    u64 key;
    int len;

    if (!path || skip())
        return 0;
    len = bpf_probe_read_user_str(path, PATH_LEN, upath);
    if (len <= 1)
        return 0;
    key = name_hash(path, len - 1, PATH_LEN - 1, true);
    b = bpf_map_lookup_elem(&birth, &key);
    if (!b)
        return 0;       // created before tracing, or not a file we saw made
    e.delta_ms = (bpf_ktime_get_ns() - b->ts) / 1000000;
    e.pid = bpf_get_current_pid_tgid() >> 32;
    bpf_get_current_comm(e.comm, sizeof(e.comm));
    __builtin_memcpy(e.fname, b->fname, sizeof(e.fname));
    bpf_map_delete_elem(&birth, &key);
    emit_event(ctx, &e, sizeof(e));
    return 0;
}

/* unlink(path) and unlinkat(dfd, path, flags) in one program, verified once
 * (the name walk is most of the verifier's work). unlinkat's path and flags
 * are probe-read: a direct read of args[1] or args[2] would make the program
 * read past unlink's one-argument record, and attaching it there fail. */
SEC("tracepoint/syscalls/sys_enter_unlinkat")
int enter_unlink_any(struct trace_event_raw_sys_enter *ctx)
{
    const char *upath = (const char *)ctx->args[0];    /* unlink's path */
    long a[2];

    if ((int)ctx->id != nr_unlink) {     /* (__syscall_nr is an int) */
        if (bpf_probe_read_kernel(a, sizeof(a), &ctx->args[1]) || (a[1] & AT_REMOVEDIR))
            return 0;
        upath = (const char *)a[0];
    }
    return deleted(ctx, upath);
}

char LICENSE[] SEC("license") = "GPL";
