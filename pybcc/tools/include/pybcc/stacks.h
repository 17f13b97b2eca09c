/* BPF-side pieces of the stack tools (profile, offcputime, stackcount):
 * the stack map and which stacks to take. The Python side sets
 * user_stacks/kernel_stacks before load and may resize stack_traces
 * (--stack-storage-size).
 */
#ifndef __PYBCC_STACKS_H
#define __PYBCC_STACKS_H

#include <bpf/bpf_helpers.h>
#include <pybcc/counts.h>
#include <pybcc/maps.h>

#ifndef STACK_STORAGE_SIZE
#define STACK_STORAGE_SIZE 1024
#endif

const volatile bool user_stacks = true;
const volatile bool kernel_stacks = true;

STACK_TRACE_MAP(stack_traces, STACK_STORAGE_SIZE);

/* The tool's counts: {its key (with stack ids): total}. */
#define STACK_COUNTS(key_type, entries) HASH_MAP(counts, key_type, u64, entries)

/* The stack ids of the current task; -1 for a stack not asked for. */
static __always_inline void get_stack_ids(void *ctx, s32 *user_id, s32 *kernel_id)
{
    *user_id = user_stacks ? bpf_get_stackid(ctx, &stack_traces, BPF_F_USER_STACK) : -1;
    *kernel_id = kernel_stacks ? bpf_get_stackid(ctx, &stack_traces, 0) : -1;
}

#endif
