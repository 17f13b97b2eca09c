# kprobes where the kernel has none: kprobe__ functions and attach_kprobe
# raise NotSupportedError naming the alternative; the function list from
# kallsyms still works; the tracepoint alternative attaches.
import os

from bcc import BPF
from pybcc.errors import NotSupportedError
from scriptlib import check, passed, skip

if BPF.support_kprobe():
    skip("this kernel has kprobes: the fallback path is not exercised")

fn = BPF.get_syscall_fnname("getppid")
check(fn.startswith("__x64_sys_") or fn.startswith("sys_") or "_sys_" in fn, fn)
funcs = BPF.get_kprobe_functions(b"^vfs_read$")
check(funcs == ["vfs_read"], "get_kprobe_functions: %r" % funcs)
check(len(BPF.get_kprobe_functions("^vfs_")) > 3, "regex match")

try:
    BPF(text="int kprobe__vfs_read(struct pt_regs *ctx) { return 0; }")
    check(False, "kprobe__ should raise NotSupportedError")
except NotSupportedError as e:
    msg = str(e)
    print(msg)
    check("kprobe" in msg and "instead" in msg, msg)

b = BPF(text="""
BPF_ARRAY(hits, u64, 1);
int on_getppid(void *ctx) {
    if ((bpf_get_current_pid_tgid() >> 32) == TARGET)
        hits.increment(0);
    return 0;
}
""".replace("TARGET", str(os.getpid())))
try:
    b.attach_kprobe(event=fn, fn_name="on_getppid")
    check(False, "attach_kprobe should raise")
except NotSupportedError as e:
    check("syscalls:sys_enter_getppid" in str(e), "alternative named: %s" % e)
try:
    b.attach_kretprobe(event_re="^vfs_rea", fn_name="on_getppid")
    check(False, "attach_kretprobe(event_re) should raise")
except NotSupportedError:
    pass
check(b.num_open_kprobes() == 0, "nothing attached")
b.attach_tracepoint(tp="syscalls:sys_enter_getppid", fn_name="on_getppid")
os.getppid()
check(b["hits"][0].value == 1, "tracepoint alternative works")
passed("kprobe_fallback")
