// deadlock: the lock-order graph of one process's mutexes, for finding lock
// inversions (potential deadlocks). Uprobes on the lock and unlock
// functions keep each thread's held mutexes; taking mutex B while holding A
// adds the edge A -> B with both places' stacks. The clone syscalls' exit
// tracepoints record who created each thread, and where.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <pybcc/tool.h>
#include <pybcc/callstash.h>
#include <pybcc/stacks.h>

#define MAX_HELD_MUTEXES 16
#define TASK_COMM_LEN 16

const volatile u32 targ_tgid = 0;

struct held_mutex {
    u64 mutex;
    s64 stack_id;
};

struct held_mutexes {
    struct held_mutex held[MAX_HELD_MUTEXES];
};

struct edge_key {
    u64 mutex1;
    u64 mutex2;
};

struct edge {
    s64 mutex1_stack_id;
    s64 mutex2_stack_id;
    u32 thread_pid;
    char comm[TASK_COMM_LEN];
};

struct thread_created {
    s64 stack_id;
    u32 parent_pid;
    char comm[TASK_COMM_LEN];
};

HASH_MAP(thread_to_held_mutexes, u32, struct held_mutexes, 65536);

HASH_MAP(edges, struct edge_key, struct edge, 65536);

HASH_MAP(thread_to_parent, u32, struct thread_created, 65536);


DEFINE_SCRATCH(struct held_mutexes, empty_held);
DEFINE_SCRATCH(struct edge, edge_scratch);

SEC("uprobe")
int BPF_KPROBE(mutex_acquire, void *mutex_addr)
{
    u32 tid = bpf_get_current_pid_tgid();
    u64 mutex = (u64)mutex_addr;
    struct held_mutexes *leaf, *empty;
    struct edge_key key = {};
    struct edge *e;
    bool added = false;
    s64 stack_id;
    int i;

    leaf = bpf_map_lookup_elem(&thread_to_held_mutexes, &tid);
    if (!leaf) {
        empty = scratch(&empty_held);
        if (!empty)
            return 0;
        __builtin_memset(empty, 0, sizeof(*empty));
        leaf = map_lookup_or_init(&thread_to_held_mutexes, &tid, empty);
        if (!leaf)
            return 0;
    }
    for (i = 0; i < MAX_HELD_MUTEXES; i++)
        if (leaf->held[i].mutex == mutex)
            return 0;           // no self edges (a recursive mutex)
    stack_id = bpf_get_stackid(ctx, &stack_traces, BPF_F_USER_STACK);
    e = scratch(&edge_scratch);
    if (!e)
        return 0;
    for (i = 0; i < MAX_HELD_MUTEXES; i++) {
        if (!leaf->held[i].mutex) {
            if (!added) {
                leaf->held[i].mutex = mutex;
                leaf->held[i].stack_id = stack_id;
                added = true;
            }
            continue;
        }
        key.mutex1 = leaf->held[i].mutex;
        key.mutex2 = mutex;
        e->mutex1_stack_id = leaf->held[i].stack_id;
        e->mutex2_stack_id = stack_id;
        e->thread_pid = tid;
        bpf_get_current_comm(e->comm, sizeof(e->comm));
        bpf_map_update_elem(&edges, &key, e, BPF_ANY);
    }
    return 0;
}

SEC("uprobe")
int BPF_KPROBE(mutex_release, void *mutex_addr)
{
    u32 tid = bpf_get_current_pid_tgid();
    struct held_mutexes *leaf;
    int i;

    leaf = bpf_map_lookup_elem(&thread_to_held_mutexes, &tid);
    if (!leaf)
        return 0;
    for (i = 0; i < MAX_HELD_MUTEXES; i++) {
        if (leaf->held[i].mutex == (u64)mutex_addr) {
            leaf->held[i].mutex = 0;
            leaf->held[i].stack_id = 0;
        }
    }
    return 0;
}

/* In the parent, clone's return value is the new thread's id. */
static __always_inline int thread_created(void *ctx, long ret)
{
    u64 id = bpf_get_current_pid_tgid();
    struct thread_created t = {};
    u32 child = ret;

    if (ret <= 0 || (targ_tgid && (id >> 32) != targ_tgid))
        return 0;
    t.parent_pid = id;
    t.stack_id = bpf_get_stackid(ctx, &stack_traces, BPF_F_USER_STACK);
    bpf_get_current_comm(t.comm, sizeof(t.comm));
    bpf_map_update_elem(&thread_to_parent, &child, &t, BPF_NOEXIST);
    return 0;
}

SYSCALL_EXIT_PROGRAM(clone_exit, clone, thread_created)
SYSCALL_EXIT_PROGRAM(clone3_exit, clone3, thread_created)

char LICENSE[] SEC("license") = "GPL";
