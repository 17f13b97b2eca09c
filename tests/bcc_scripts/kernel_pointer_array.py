# A static function that takes an array of kernel struct pointers (as
# virtiostat's count_len(struct scatterlist **sgs, ...)) reads its elements
# from kernel memory: here the task's file table, fds[fd]->f_inode->i_ino.
import os

from bcc import BPF
from scriptlib import check, passed

prog = """
BPF_ARRAY(ino, u64, 1);

static u64 ino_of(struct file **fds, int i)
{
    struct file *f = fds[i];
    return f ? f->f_inode->i_ino : 0;
}

TRACEPOINT_PROBE(syscalls, sys_enter_getppid) {
    if ((bpf_get_current_pid_tgid() >> 32) != PID)
        return 0;
    struct task_struct *t = (struct task_struct *)bpf_get_current_task();
    u64 v = ino_of(t->files->fdt->fd, FD);
    ino.update(&(int){0}, &v);
    return 0;
}
"""

with open(__file__) as f:
    fd = f.fileno()
    b = BPF(text=prog.replace("PID", str(os.getpid())).replace("FD", str(fd)))
    os.getppid()
    want = os.fstat(fd).st_ino
got = b["ino"][0].value
check(got == want, "fds[%d]->f_inode->i_ino: %d, want %d" % (fd, got, want))
passed("kernel_pointer_array")
