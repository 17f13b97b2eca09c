/* A CPU's run queue, found from the current task (runqlen, cpuunclaimed). */
#ifndef __PYBCC_RUNQUEUE_H
#define __PYBCC_RUNQUEUE_H

#include <bpf/bpf_core_read.h>

/* The CPU's run queue: the current task's cfs_rq points back to it when
 * group scheduling is built in; otherwise the cfs_rq is the one inside it. */
static __always_inline struct rq *this_rq(struct task_struct *task)
{
    struct cfs_rq *cfs = BPF_CORE_READ(task, se.cfs_rq);

    if (!cfs)
        return NULL;
    if (bpf_core_field_exists(cfs->rq))
        return BPF_CORE_READ(cfs, rq);
    return (void *)cfs - bpf_core_field_offset(struct rq, cfs);
}

/* Every runnable task of this CPU, the running one included (0: idle).
 * Not the current task's own group's cfs_rq: with autogroup or cgroups
 * that holds only the tasks of its group, and a busy CPU would read as idle. */
static __always_inline u32 cpu_nr_running(void)
{
    struct rq *rq = this_rq((void *)bpf_get_current_task());

    return rq ? BPF_CORE_READ(rq, nr_running) : 0;
}

#endif
