/* What the off-CPU tools share (offcputime, offwaketime, wakeuptime):
 * which threads to trace (bcc's -p/-t/-u/-k and --state) and the count of
 * periods that could not be counted. The Python side (lib/offcpu.py) sets
 * the constants before load.
 */
#ifndef __PYBCC_OFFCPU_H
#define __PYBCC_OFFCPU_H

#include <bpf/bpf_helpers.h>
#include <pybcc/maps.h>
#include <bpf/bpf_core_read.h>
#include <pybcc/task.h>

#define PF_KTHREAD 0x00200000
#define MAX_TARG_IDS 5          /* bcc's offwaketime takes up to 5 pids or tids */

enum { THREADS_ALL, THREADS_TGID, THREADS_TID, THREADS_USER, THREADS_KERNEL };

const volatile int thread_mode = THREADS_ALL;
const volatile u32 targ_ids[MAX_TARG_IDS] = {};     /* -p/-t; 0: unused */
const volatile bool filter_state = false;
const volatile long targ_state = 0;
const volatile u64 min_block_us = 1;
const volatile u64 max_block_us = (u64)-1;

/* [0] start times later than end times, [1] counts or start full */
PERCPU_ARRAY_MAP(problems, u32, u64, 2);

enum { PROBLEM_NEGATIVE, PROBLEM_FULL };

static __always_inline void problem(u32 which)
{
    u64 *n = bpf_map_lookup_elem(&problems, &which);

    if (n)
        *n += 1;
}

static __always_inline bool one_of_targets(u32 id)
{
    for (int i = 0; i < MAX_TARG_IDS; i++)
        if (targ_ids[i] && targ_ids[i] == id)
            return true;
    return false;
}

/* Is ``t`` one of the threads asked for? */
static __always_inline bool thread_wanted(struct task_struct *t)
{
    u32 flags;
    long state;

    switch (thread_mode) {
    case THREADS_TGID:
        if (!one_of_targets(BPF_CORE_READ(t, tgid)))
            return false;
        break;
    case THREADS_TID:
        if (!one_of_targets(BPF_CORE_READ(t, pid)))
            return false;
        break;
    case THREADS_USER:
    case THREADS_KERNEL:
        flags = BPF_CORE_READ(t, flags);
        if (!(flags & PF_KTHREAD) != (thread_mode == THREADS_USER))
            return false;
        break;
    }
    if (filter_state) {
        state = task_state(t);
        return targ_state == 0 ? state == 0 : (state & targ_state) != 0;
    }
    return true;
}

/* An off-CPU period of ``ns`` nanoseconds in microseconds, or 0 when it is
 * outside -m/-M. */
static __always_inline u64 block_us(u64 ns)
{
    u64 us = ns / 1000;

    return us >= min_block_us && us <= max_block_us ? us : 0;
}

#endif
