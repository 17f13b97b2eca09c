// sslsniff: the plain text of TLS reads and writes, from uprobes on the TLS
// libraries' read/write functions (OpenSSL SSL_read/SSL_write and their _ex
// forms, GnuTLS gnutls_record_recv/send, NSS PR_Read/PR_Write/PR_Recv/PR_Send)
// and the latency of SSL_do_handshake. The entry probe remembers the buffer
// per thread; the return probe copies what was read or written.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <pybcc/tool.h>
#include <pybcc/names.h>

#define BUF_CAP 16384          /* --max-buffer-size's upper bound: a TLS record's most (per-CPU values are < 32 KB) */
#define RW_READ 0
#define RW_WRITE 1
#define RW_HANDSHAKE 2

struct event {
    u64 timestamp_ns;
    u64 delta_ns;
    u32 pid;
    u32 tid;
    u32 uid;
    u32 len;
    s32 buf_filled;
    s32 rw;
    char comm[16];
    u8 buf[BUF_CAP];
};
PYBCC_RECORD(event);

/* one call in progress on a thread */
struct call {
    u64 ts;
    const void *buf;
    const size_t *count;        /* SSL_read_ex/SSL_write_ex: where the byte count goes */
    bool returns_long;          /* GnuTLS returns ssize_t; the others int */
};

const volatile u32 targ_pid = 0;
const volatile u32 targ_uid = (u32)-1;
const volatile char targ_comm[16] = {};   /* -c: exact command name, "" for any */
const volatile u32 max_buf = 8192;

HASH_MAP(calls, u32, struct call, 10240);      /* per thread */
HASH_MAP(handshakes, u32, u64, 10240);          /* per thread: SSL_do_handshake's start */

DEFINE_SCRATCH(struct event, scratch_event);

static __always_inline bool comm_matches(void)
{
    char comm[16];

    if (!targ_comm[0])
        return true;
    bpf_get_current_comm(comm, sizeof(comm));
    return name_equal(comm, targ_comm, sizeof(comm));
}

static __always_inline bool traced(u64 id)
{
    if (targ_pid && (id >> 32) != targ_pid)
        return false;
    if (targ_uid != (u32)-1 && (u32)bpf_get_current_uid_gid() != targ_uid)
        return false;
    return comm_matches();
}

static __always_inline int enter(const void *buf, const size_t *count, bool returns_long)
{
    u64 id = bpf_get_current_pid_tgid();
    u32 tid = (u32)id;
    struct call c = {.buf = buf, .count = count, .returns_long = returns_long};

    if (!traced(id))
        return 0;
    c.ts = bpf_ktime_get_ns();
    bpf_map_update_elem(&calls, &tid, &c, BPF_ANY);
    return 0;
}

static __always_inline struct event *new_event(u64 id, u64 start, int rw)
{
    struct event *e = scratch(&scratch_event);

    if (!e)
        return NULL;
    e->timestamp_ns = bpf_ktime_get_ns();
    e->delta_ns = e->timestamp_ns - start;
    e->pid = id >> 32;
    e->tid = (u32)id;
    e->uid = (u32)bpf_get_current_uid_gid();
    e->len = 0;
    e->buf_filled = 0;
    e->rw = rw;
    bpf_get_current_comm(e->comm, sizeof(e->comm));
    return e;
}

/* ``rax``: what the function returned (bytes, or 1/0 for the _ex forms) */
static __always_inline int leave(void *ctx, u64 rax, int rw)
{
    u64 id = bpf_get_current_pid_tgid();
    u32 tid = (u32)id;
    struct call *c = bpf_map_lookup_elem(&calls, &tid);
    struct event *e;
    u64 len;
    u32 copy;

    long ret;

    if (!c)
        return 0;
    /* an int's upper 32 bits of rax are not its sign */
    ret = c->returns_long ? (long)rax : (long)(int)rax;
    if (c->count) {
        size_t n = 0;
        if (ret != 1 || bpf_probe_read_user(&n, sizeof(n), c->count))
            goto out;
        len = n;
    } else if (ret <= 0) {
        goto out;                   /* nothing read or written */
    } else {
        len = ret;
    }
    e = new_event(id, c->ts, rw);
    if (!e)
        goto out;
    e->len = len;
    copy = len < max_buf ? len : max_buf;
    if (copy > BUF_CAP)
        copy = BUF_CAP;
    if (bpf_probe_read_user(e->buf, copy, c->buf) == 0)
        e->buf_filled = 1;
    else
        copy = 0;
    emit_event(ctx, e, offsetof(struct event, buf) + copy);
out:
    bpf_map_delete_elem(&calls, &tid);
    return 0;
}

/* SSL_read/SSL_write, PR_Read/PR_Write/PR_Recv/PR_Send: int f(x, buf, n, ...) */
SEC("uprobe")
int BPF_UPROBE(rw_enter, void *session, const void *buf)
{
    return enter(buf, NULL, false);
}

/* gnutls_record_recv/send: ssize_t f(session, buf, n) */
SEC("uprobe")
int BPF_UPROBE(rw_long_enter, void *session, const void *buf)
{
    return enter(buf, NULL, true);
}

/* SSL_read_ex/SSL_write_ex: int f(ssl, buf, num, size_t *count) */
SEC("uprobe")
int BPF_UPROBE(rw_ex_enter, void *ssl, const void *buf, size_t num, const size_t *count)
{
    return enter(buf, count, false);
}

SEC("uretprobe")
int BPF_URETPROBE(read_exit)
{
    return leave(ctx, PT_REGS_RC(ctx), RW_READ);
}

SEC("uretprobe")
int BPF_URETPROBE(write_exit)
{
    return leave(ctx, PT_REGS_RC(ctx), RW_WRITE);
}

SEC("uprobe")
int BPF_UPROBE(handshake_enter)
{
    u64 id = bpf_get_current_pid_tgid();
    u32 tid = (u32)id;
    u64 ts;

    if (!traced(id))
        return 0;
    ts = bpf_ktime_get_ns();
    bpf_map_update_elem(&handshakes, &tid, &ts, BPF_ANY);
    return 0;
}

SEC("uretprobe")
int BPF_URETPROBE(handshake_exit, int ret)
{
    u64 id = bpf_get_current_pid_tgid();
    u32 tid = (u32)id;
    u64 *start = bpf_map_lookup_elem(&handshakes, &tid);
    struct event *e;

    if (!start)
        return 0;
    if (ret > 0) {              /* <= 0: failed, or wants more I/O */
        e = new_event(id, *start, RW_HANDSHAKE);
        if (e)
            emit_event(ctx, e, offsetof(struct event, buf));
    }
    bpf_map_delete_elem(&handshakes, &tid);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
