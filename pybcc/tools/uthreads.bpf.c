// uthreads: threads a process starts. pthreads: a uprobe on pthread_create
// keeps the start routine per calling thread, and the sched_process_fork
// tracepoint (in that caller, with the new thread's id) reports it (glibc
// has no pthread_start USDT probe in Debian). Java: hotspot's
// thread__start/stop USDT probes (name, Java id, native id).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "pybcc/tool.h"
#include "pybcc/langs.h"

const volatile u32 targ_pid = 0;

enum kind { PTHREAD = 0, JAVA_START = 1, JAVA_STOP = 2 };

struct event {
    u64 ts;
    u64 runtime_id;     /* pthread: the start routine; Java: the Java thread id */
    u64 native_id;      /* the thread id (Java: as the JVM reports it) */
    u32 kind;
    char name[LANG_STR];
};
PYBCC_RECORD(event);

HASH_MAP(creating, u32, u64, 10240);        /* caller's tid → start routine, inside pthread_create */

SEC("uprobe")
int BPF_KPROBE(pthread_create_enter, void *thread, void *attr, void *start_routine)
{
    u32 tid = (u32)bpf_get_current_pid_tgid();
    u64 routine = (u64)start_routine;

    bpf_map_update_elem(&creating, &tid, &routine, BPF_ANY);
    return 0;
}

SEC("uretprobe")
int pthread_create_exit(struct pt_regs *ctx)
{
    u32 tid = (u32)bpf_get_current_pid_tgid();

    bpf_map_delete_elem(&creating, &tid);
    return 0;
}

SEC("tracepoint/sched/sched_process_fork")
int thread_forked(struct trace_event_raw_sched_process_fork *ctx)
{
    u64 id = bpf_get_current_pid_tgid();
    u32 tid = (u32)id;
    struct event e = {};
    u64 *routine;

    if ((id >> 32) != targ_pid)
        return 0;
    routine = bpf_map_lookup_elem(&creating, &tid);
    if (!routine)
        return 0;
    e.ts = bpf_ktime_get_ns();
    e.kind = PTHREAD;
    e.runtime_id = *routine;
    e.native_id = ctx->child_pid;
    emit_event(ctx, &e, sizeof(e));
    return 0;
}

/* thread__start/stop(name, name length, Java id, native id, daemon); cookie: kind */
SEC("usdt")
int java_thread(struct pt_regs *ctx)
{
    struct event e = {};

    e.ts = bpf_ktime_get_ns();
    e.kind = bpf_usdt_cookie(ctx);
    lang_string(ctx, e.name, sizeof(e.name), 1, 2);
    e.runtime_id = lang_arg(ctx, 3);
    e.native_id = lang_arg(ctx, 4);
    emit_event(ctx, &e, sizeof(e));
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
