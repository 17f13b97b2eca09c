/* From the current task to the file behind an fd (CO-RE walk), for tools
 * that see a syscall's fd in a tracepoint and need the file (filelife). */
#ifndef __PYBCC_FILES_H
#define __PYBCC_FILES_H

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

/* The file open at ``fd`` in the current task, or NULL. */
static __always_inline struct file *current_fd_file(long fd)
{
    struct task_struct *task = (void *)bpf_get_current_task();
    struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
    struct file **fds, *f = NULL;

    if (fd < 0 || fd >= BPF_CORE_READ(fdt, max_fds))
        return NULL;
    fds = BPF_CORE_READ(fdt, fd);
    bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
    return f;
}

#endif
