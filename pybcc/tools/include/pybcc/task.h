/* Reading a task's state on old and new kernels (offcputime, runqlat). */
#ifndef __PYBCC_TASK_H
#define __PYBCC_TASK_H

#include <bpf/bpf_core_read.h>

/* Kernels before 5.14 called __state "state" (both flavours named, so
 * that this compiles against either kernel's vmlinux.h). */
struct task_struct___old {
    long state;
} __attribute__((preserve_access_index));

struct task_struct___new {
    unsigned int __state;
} __attribute__((preserve_access_index));

static __always_inline long task_state(struct task_struct *t)
{
    struct task_struct___old *old = (void *)t;
    struct task_struct___new *new = (void *)t;

    if (bpf_core_field_exists(old->state))
        return BPF_CORE_READ(old, state);
    return BPF_CORE_READ(new, __state);
}

#endif
