# bcc's probe bookkeeping: the global probe quota (_get_num_open_probes,
# BCC_PROBE_LIMIT), detach by bcc's event names (detach_uprobe_event,
# detach_kprobe_event), the kprobe_fds/uprobe_fds views, and that a uprobe
# detached by event name really stops counting.
import ctypes
import os

from bcc import BPF, _get_num_open_probes
from scriptlib import check, passed

prog = r"""
BPF_ARRAY(calls, u64, 1);
int count(struct pt_regs *ctx) {
    if ((bpf_get_current_pid_tgid() >> 32) != MYPID)
        return 0;
    int zero = 0;
    u64 *v = calls.lookup(&zero);
    if (v)
        __sync_fetch_and_add(v, 1);
    return 0;
}
"""

libc = ctypes.CDLL("libc.so.6")
check(_get_num_open_probes() == 0, "no probes open at start")
b1 = BPF(text=prog, cflags=["-DMYPID=%d" % os.getpid()])
b2 = BPF(text=prog, cflags=["-DMYPID=%d" % os.getpid()])
b1.attach_uprobe(name=b"c", sym=b"getpid", fn_name=b"count")
b2.attach_uretprobe(name=b"c", sym=b"getppid", fn_name=b"count")
check(_get_num_open_probes() == 2, "two probes over two BPF objects: %d" % _get_num_open_probes())

for _ in range(5):
    libc.getpid()
n = b1[b"calls"][0].value
check(n == 5, "uprobe counted %d getpid calls, want 5" % n)

# bcc's event names: p_<basename>_0x<offset>, r_ for a return probe.
(ev,) = b1.uprobe_fds.keys()
check(isinstance(ev, bytes) and ev.startswith(b"p_libc_so_6_0x"), "uprobe event name %r" % ev)
b1.detach_uprobe_event(ev)
check(_get_num_open_probes() == 1 and b1.num_open_uprobes() == 0, "after detach_uprobe_event")
for _ in range(5):
    libc.getpid()
check(b1[b"calls"][0].value == 5, "a detached uprobe still counts")
try:
    b1.detach_uprobe_event(ev)
    check(False, "detaching twice should fail")
except Exception as e:
    check("not attached" in str(e), "second detach: %s" % e)

# The quota counts every BPF object of the process.
os.environ["BCC_PROBE_LIMIT"] = "2"
try:
    b1.attach_uprobe(name=b"c", sym_re=b"^getp.*id$", fn_name=b"count")
    check(False, "three probes with BCC_PROBE_LIMIT=2 should fail")
except Exception as e:
    check("quota" in str(e), "quota message: %s" % e)
check(_get_num_open_probes() == 1, "a refused attach opens nothing")
del os.environ["BCC_PROBE_LIMIT"]

# kprobes, by event name (a syscall's stand-in where kprobes are missing)
b1.attach_kprobe(event=b1.get_syscall_fnname(b"getppid"), fn_name=b"count")
evs = list(b1.kprobe_fds)
check(len(evs) == 1 and evs[0].startswith(b"p_") and b"getppid" in evs[0],
      "kprobe event names %r" % evs)
check(list(b1.kprobe_fds[evs[0]]) == [b"count"], "functions on %r" % evs[0])
b1.detach_kprobe_event(evs[0])
check(b1.num_open_kprobes() == 0, "after detach_kprobe_event")

b1.cleanup()
b2.cleanup()
check(_get_num_open_probes() == 0, "cleanup closes every probe: %d left" % _get_num_open_probes())
passed("probe_bookkeeping")
