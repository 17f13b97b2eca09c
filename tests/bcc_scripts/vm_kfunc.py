# kfunc/kretfunc (fentry/fexit) for real, in the stock-kernel VM.
import os

from bcc import BPF
from scriptlib import check, passed, skip

if not BPF.support_kfunc():
    if os.environ.get("PYBCC_VMTEST") == "1":
        check(False, "in the VM but no fentry")
    skip("fentry/fexit refused on this kernel (runs in the VM: scripts/vm-tests.sh)")

b = BPF(text="""
BPF_HASH(entries, u32, u64);
BPF_HASH(results, u32, s64);

KFUNC_PROBE(vfs_read, struct file *file, char *buf, size_t count, loff_t *pos)
{
    u32 pid = bpf_get_current_pid_tgid() >> 32;
    if (pid == TARGET)
        entries.increment(pid);
    return 0;
}

KRETFUNC_PROBE(vfs_read, struct file *file, char *buf, size_t count, loff_t *pos, ssize_t ret)
{
    u32 pid = bpf_get_current_pid_tgid() >> 32;
    s64 r = ret;
    if (pid == TARGET)
        results.update(&pid, &r);
    return 0;
}
""".replace("TARGET", str(os.getpid())))
fd = os.open("/proc/self/stat", os.O_RDONLY)
os.read(fd, 5)
os.close(fd)
me = os.getpid()
check(b["entries"][b["entries"].Key(me)].value >= 1, "fentry fired")
check(b["results"][b["results"].Key(me)].value == 5, "fexit saw the return value")
passed("vm_kfunc")
