// syncsnoop: the sync family of syscalls (sync, fsync, fdatasync, msync,
// sync_file_range, syncfs) from their syscalls:sys_enter_* tracepoints.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <pybcc/tool.h>

/* bcc's numbering of the calls (its sys_names table) */
enum sync_call {
    CALL_SYNC = 1,
    CALL_FSYNC,
    CALL_FDATASYNC,
    CALL_MSYNC,
    CALL_SYNC_FILE_RANGE,
    CALL_SYNCFS,
};

struct event {
    u64 ts_ns;
    u32 pid;
    u32 tid;
    u32 call;
    char comm[16];
};
PYBCC_RECORD(event);

const volatile u32 targ_pid = 0;

static __always_inline int report(void *ctx, u32 call)
{
    u64 id = bpf_get_current_pid_tgid();
    struct event e = {};

    if (targ_pid && (id >> 32) != targ_pid)
        return 0;
    e.ts_ns = bpf_ktime_get_ns();
    e.pid = id >> 32;
    e.tid = (u32)id;
    e.call = call;
    bpf_get_current_comm(e.comm, sizeof(e.comm));
    emit_event(ctx, &e, sizeof(e));
    return 0;
}

SEC("tracepoint/syscalls/sys_enter_sync")
int enter_sync(void *ctx) { return report(ctx, CALL_SYNC); }

SEC("tracepoint/syscalls/sys_enter_fsync")
int enter_fsync(void *ctx) { return report(ctx, CALL_FSYNC); }

SEC("tracepoint/syscalls/sys_enter_fdatasync")
int enter_fdatasync(void *ctx) { return report(ctx, CALL_FDATASYNC); }

SEC("tracepoint/syscalls/sys_enter_msync")
int enter_msync(void *ctx) { return report(ctx, CALL_MSYNC); }

SEC("tracepoint/syscalls/sys_enter_sync_file_range")
int enter_sync_file_range(void *ctx) { return report(ctx, CALL_SYNC_FILE_RANGE); }

SEC("tracepoint/syscalls/sys_enter_syncfs")
int enter_syncfs(void *ctx) { return report(ctx, CALL_SYNCFS); }

char LICENSE[] SEC("license") = "GPL";
