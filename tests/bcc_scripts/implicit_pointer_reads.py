# bcc's implicit kernel reads through pointers that are not struct pointers
# declared in place: a pointer to a kernel field (&t->tgid), a pointer kept
# on the stack (*pp)->f, a char pointer into a kernel array (t->comm),
# indexing a pointer loaded from kernel memory, *(&p->f), and a member
# alias macro (sk_daddr). Values are checked against the process itself;
# the kprobe-argument forms are checked by the verifier (loaded, not attached).
import os

from bcc import BPF
from scriptlib import check, passed

prog = r"""
#include <linux/sched.h>
#include <net/sock.h>

BPF_ARRAY(out, u64, 8);

static struct task_struct *parent_of(struct task_struct *t) {
    return t->real_parent;
}

TRACEPOINT_PROBE(syscalls, sys_enter_getppid) {
    if ((bpf_get_current_pid_tgid() >> 32) != MYPID)
        return 0;
    struct task_struct *t = (struct task_struct *)bpf_get_current_task();
    struct task_struct **pp = &t;
    int *tgid = &t->tgid;
    char *comm = t->comm;
    u64 v;
    int i;
    i = 0; v = *tgid;                    out.update(&i, &v);
    i = 1; v = (*pp)->tgid;              out.update(&i, &v);
    i = 2; v = comm[1];                  out.update(&i, &v);
    i = 3; v = *(&t->real_parent->tgid); out.update(&i, &v);
    i = 4; v = parent_of(t)->tgid;       out.update(&i, &v);
    i = 5; v = t->group_leader->comm[2]; out.update(&i, &v);
    return 0;
}

/* kprobe arguments are kernel addresses: reads through them are implicit */
int kargs(struct pt_regs *ctx, const struct qstr *name, char **names, struct sock *sk) {
    u32 *daddr = &sk->sk_daddr;
    return name->name[1] + (*names)[1] + *daddr + sk->sk_dport;
}
"""

b = BPF(text=prog, cflags=["-DMYPID=%d" % os.getpid()])
os.getppid()
out = b[b"out"]
comm = open("/proc/self/comm", "rb").read().strip()
want = {0: os.getpid(), 1: os.getpid(), 2: comm[1], 3: os.getppid(), 4: os.getppid(), 5: comm[2]}
for i, value in want.items():
    check(out[i].value == value, "out[%d] = %d, want %d" % (i, out[i].value, value))
b.load_func(b"kargs", BPF.KPROBE)     # the verifier accepts the reads
passed("implicit_pointer_reads")
