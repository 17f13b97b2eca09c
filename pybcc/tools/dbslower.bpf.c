// dbslower, dbstat, mysqld_qslower: the latency of each query a MySQL/MariaDB
// or PostgreSQL server runs, from its USDT probes query__start/query__done,
// or, in a server built without them, from a uprobe and uretprobe on the
// function that runs one query (MySQL's dispatch_command, PostgreSQL's
// exec_simple_query). The start probe copies the query text (MySQL reuses
// the packet buffer before the function returns); the done probe sends an
// event for a query over the threshold (dbslower, mysqld_qslower) or counts
// it in a log2 histogram (dbstat).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/usdt.bpf.h>
#include <pybcc/tool.h>
#include <pybcc/counts.h>

#define QUERY_LEN 256
#define COM_QUERY 3             /* enum enum_server_command */

struct event {
    u64 timestamp;              /* query start, CLOCK_MONOTONIC ns */
    u64 duration;               /* ns */
    u32 pid;
    u32 pad;
    char query[QUERY_LEN];
};
PYBCC_RECORD(event);

struct start {
    u64 timestamp;
    char query[QUERY_LEN];
};

struct hist_key {
    u32 slot;
};

const volatile u64 min_ns = 0;          /* report queries at least this slow */
const volatile bool histogram = false;  /* dbstat: count in hists, send nothing */
const volatile u64 hist_unit_ns = 1000000;
const volatile bool filter_pids = false;

/* -p: these processes and their children (PostgreSQL forks a backend per
 * connection from the postmaster) */
HASH_MAP(pids, u32, u8, 1024);
HASH_MAP(starts, u32, struct start, 10240);     /* per thread: the query running */
HASH_MAP(hists, struct hist_key, u64, 64);      /* dbstat */

DEFINE_SCRATCH(struct start, scratch_start);
DEFINE_SCRATCH(struct event, scratch_event);

static __always_inline bool traced(u64 id)
{
    u32 pid = id >> 32, ppid;
    struct task_struct *task;

    if (!filter_pids || bpf_map_lookup_elem(&pids, &pid))
        return true;
    task = (void *)bpf_get_current_task();
    ppid = BPF_CORE_READ(task, real_parent, tgid);
    return bpf_map_lookup_elem(&pids, &ppid) != NULL;
}

static __always_inline int query_start(const char *query)
{
    u64 id = bpf_get_current_pid_tgid();
    u32 tid = (u32)id;
    struct start *s;

    if (!traced(id))
        return 0;
    s = scratch(&scratch_start);
    if (!s)
        return 0;
    s->timestamp = bpf_ktime_get_ns();
    if (histogram)
        s->query[0] = 0;
    else if (bpf_probe_read_user_str(s->query, sizeof(s->query), query) < 0)
        s->query[0] = 0;
    bpf_map_update_elem(&starts, &tid, s, BPF_ANY);
    return 0;
}

static __always_inline int query_done(void *ctx)
{
    u64 id = bpf_get_current_pid_tgid();
    u32 tid = (u32)id;
    struct start *s = bpf_map_lookup_elem(&starts, &tid);
    struct event *e;
    u64 delta;

    if (!s)
        return 0;
    delta = bpf_ktime_get_ns() - s->timestamp;
    if (delta < min_ns)
        goto out;
    if (histogram) {
        struct hist_key key = {.slot = log2_slot(delta / hist_unit_ns)};
        map_add(&hists, &key, 1);
        goto out;
    }
    e = scratch(&scratch_event);
    if (!e)
        goto out;
    e->timestamp = s->timestamp;
    e->duration = delta;
    e->pid = id >> 32;
    __builtin_memcpy(e->query, s->query, sizeof(e->query));
    emit_event(ctx, e, sizeof(*e));
out:
    bpf_map_delete_elem(&starts, &tid);
    return 0;
}

/* USDT query__start(query, ...) of both servers */
SEC("usdt")
int BPF_USDT(start_usdt, const char *query)
{
    return query_start(query);
}

SEC("usdt")
int BPF_USDT(done_usdt)
{
    return query_done(ctx);
}

/* MySQL <= 5.6, MariaDB: dispatch_command(command, THD *, char *packet, ...) */
SEC("uprobe")
int BPF_UPROBE(start_command_first, long command, void *thd, const char *packet)
{
    if ((int)command != COM_QUERY)
        return 0;
    return query_start(packet);
}

/* MySQL 5.7+: dispatch_command(THD *, const COM_DATA *, command); the
 * query is COM_DATA's first member, a char pointer */
SEC("uprobe")
int BPF_UPROBE(start_command_last, void *thd, const char **com_data, long command)
{
    const char *query = NULL;

    if ((int)command != COM_QUERY)
        return 0;
    bpf_probe_read_user(&query, sizeof(query), com_data);
    return query_start(query);
}

/* PostgreSQL: exec_simple_query(const char *query_string) */
SEC("uprobe")
int BPF_UPROBE(start_query_string, const char *query)
{
    return query_start(query);
}

SEC("uretprobe")
int BPF_URETPROBE(done_uprobe)
{
    return query_done(ctx);
}

char LICENSE[] SEC("license") = "GPL";
