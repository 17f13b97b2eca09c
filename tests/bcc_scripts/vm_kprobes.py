# kprobes for real (run in the stock-kernel VM; skips where the kernel has
# no kprobes): kprobe__ auto-attach with typed arguments, attach_kprobe on a
# syscall function, kretprobe return values, event_re, detach.
import os

from bcc import BPF, _get_num_open_probes
from scriptlib import check, passed, skip

if not BPF.support_kprobe():
    if os.environ.get("PYBCC_VMTEST") == "1":
        check(False, "in the VM but no kprobes")
    skip("no kprobes on this kernel (runs in the VM: scripts/vm-tests.sh)")

b = BPF(text="""
#include <linux/fs.h>

BPF_HASH(opens, u32, u64);
BPF_ARRAY(syscalls, u64, 1);
BPF_HASH(reads, u32, u64);
BPF_ARRAY(matched, u64, 1);

int kprobe__do_sys_openat2(struct pt_regs *ctx, int dfd, const char __user *filename) {
    u32 pid = bpf_get_current_pid_tgid() >> 32;
    if (pid == TARGET)
        opens.increment(pid);
    return 0;
}

int syscall__getppid(struct pt_regs *ctx) {
    if ((bpf_get_current_pid_tgid() >> 32) == TARGET)
        syscalls.increment(0);
    return 0;
}

int ret_vfs_read(struct pt_regs *ctx) {
    u32 pid = bpf_get_current_pid_tgid() >> 32;
    u64 ret = PT_REGS_RC(ctx);
    if (pid == TARGET)
        reads.update(&pid, &ret);
    return 0;
}

int any_getp(struct pt_regs *ctx) {
    if ((bpf_get_current_pid_tgid() >> 32) == TARGET)
        matched.increment(0);
    return 0;
}
""".replace("TARGET", str(os.getpid())))
check(b.num_open_kprobes() == 1, "kprobe__ auto-attached")
os.close(os.open("/dev/null", os.O_RDONLY))
check(b["opens"][b["opens"].Key(os.getpid())].value >= 1, "open counted")

b.attach_kprobe(event=b.get_syscall_fnname("getppid"), fn_name="syscall__getppid")
os.getppid()
check(b["syscalls"][0].value == 1, "syscall kprobe")

b.attach_kretprobe(event="vfs_read", fn_name="ret_vfs_read")
fd = os.open("/proc/self/stat", os.O_RDONLY)
n = len(os.read(fd, 7))
os.close(fd)
got = b["reads"][b["reads"].Key(os.getpid())].value
check(got == n == 7, "vfs_read returned %d (read %d)" % (got, n))

prefix = b.get_syscall_prefix()
b.attach_kprobe(event_re=b"^" + prefix + b"getp(p?)id$", fn_name="any_getp")
# getppid now has two functions on it: still one probed function
check(b.num_open_kprobes() == 4, "event_re attached 2 (%d open)" % b.num_open_kprobes())
os.getpid()
os.getppid()
check(b["matched"][0].value == 2, "event_re probes fired: %d" % b["matched"][0].value)

b.detach_kprobe(event=b.get_syscall_fnname("getppid"))
b.detach_kretprobe(event="vfs_read")
check(b.num_open_kprobes() == 2, "detached (%d open)" % b.num_open_kprobes())
os.getppid()
check(b["matched"][0].value == 2, "both functions left getppid")

# bcc's bookkeeping: the global probe count, event names, the quota
check(_get_num_open_probes() == 2, "open probes: %d" % _get_num_open_probes())
ev = b"p_" + b.get_syscall_fnname("getpid")
check(list(b.kprobe_fds[ev]) == [b"any_getp"], "kprobe_fds %r" % b.kprobe_fds)
b.detach_kprobe_event(ev)
os.getpid()
check(b["matched"][0].value == 2 and _get_num_open_probes() == 1, "detach_kprobe_event")
os.environ["BCC_PROBE_LIMIT"] = "1"
try:
    b.attach_kprobe(event="vfs_write", fn_name="any_getp")
    check(False, "a second probe with BCC_PROBE_LIMIT=1")
except Exception as e:
    check("quota" in str(e), "quota: %s" % e)
del os.environ["BCC_PROBE_LIMIT"]
b.cleanup()
check(_get_num_open_probes() == 0, "cleanup")
passed("vm_kprobes")
