# Implicit kernel reads through bpf_get_current_task(), as bcc scripts
# write them: task->real_parent->tgid with no bpf_probe_read.
import os

from bcc import BPF
from scriptlib import check, passed

prog = """
#include <linux/sched.h>

BPF_HASH(parent, u32, u32);

TRACEPOINT_PROBE(syscalls, sys_enter_getppid) {
    struct task_struct *task = (struct task_struct *)bpf_get_current_task();
    u32 pid = bpf_get_current_pid_tgid() >> 32;
    u32 ppid = task->real_parent->tgid;
    parent.update(&pid, &ppid);
    return 0;
}
"""

b = BPF(text=prog)
os.getppid()
parent = b["parent"]
got = parent[parent.Key(os.getpid())].value
check(got == os.getppid(), "real_parent->tgid %d != getppid() %d" % (got, os.getppid()))
passed("current_task")
