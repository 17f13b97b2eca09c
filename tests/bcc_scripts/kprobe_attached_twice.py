# Attaching one function to the same kprobe twice is allowed, as in bcc
# (nfsdist does it to nfs_file_open where nfsv4 is not loaded): the program
# then runs twice a call, and both attachments go away with the object.
# Without kprobes the syscall's tracepoint stands in, and a tracepoint takes
# a program once: it runs once a call.
import os

from bcc import BPF
from scriptlib import check, passed

b = BPF(text="""
BPF_ARRAY(hits, u64, 1);
int on_getppid(struct pt_regs *ctx) {
    if ((bpf_get_current_pid_tgid() >> 32) != PID)
        return 0;
    hits.increment(0);
    return 0;
}
""".replace("PID", str(os.getpid())))
fn = b.get_syscall_fnname("getppid")
b.attach_kprobe(event=fn, fn_name="on_getppid")
b.attach_kprobe(event=fn, fn_name="on_getppid")
check(b.num_open_kprobes() == 1, "open kprobes %d" % b.num_open_kprobes())
for _ in range(3):
    os.getppid()
hits = b["hits"]
want = 6 if BPF.support_kprobe() else 3
check(hits[0].value == want, "hits %d, want %d (3 calls)" % (hits[0].value, want))
# detach_kprobe drops the attachment bcc's bookkeeping holds (the last); the
# first, which bcc forgets, stays until the object closes
b.detach_kprobe(event=fn, fn_name="on_getppid")
os.getppid()
extra = hits[0].value - want
check(extra == (1 if BPF.support_kprobe() else 0), "after detach_kprobe: %d more" % extra)
passed("kprobe_attached_twice")
