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
check(fn.startswith(b"__x64_sys_") or fn.startswith(b"sys_") or b"_sys_" in fn, fn)
# as bcc's list is where nothing can be probed: scripts take their tracepoint paths
funcs = BPF.get_kprobe_functions(b"^vfs_read$")
check(funcs == set(), "get_kprobe_functions: %r" % funcs)

try:
    BPF(text="int kprobe__vfs_read(struct pt_regs *ctx) { return 0; }")
    check(False, "kprobe__ should raise NotSupportedError")
except NotSupportedError as e:
    msg = str(e)
    print(msg)
    check("kprobe" in msg and "instead" in msg, msg)

# A syscall function's kprobe runs on syscalls:sys_enter_NAME, its kretprobe
# on sys_exit_NAME: typed arguments and PT_REGS_RC keep their meaning.
b = BPF(text="""
BPF_ARRAY(hits, u64, 4);
int syscall__kill(struct pt_regs *ctx, int tpid, int sig) {
    if ((bpf_get_current_pid_tgid() >> 32) != TARGET)
        return 0;
    int k = 0;
    u64 v = ((u64)(u32)tpid << 8) | sig;
    hits.update(&k, &v);
    return 0;
}
int kill_return(struct pt_regs *ctx) {
    if ((bpf_get_current_pid_tgid() >> 32) != TARGET)
        return 0;
    int k = 1;
    u64 v = PT_REGS_RC(ctx);
    hits.update(&k, &v);
    return 0;
}
int ip_getpid(struct pt_regs *ctx) {
    if ((bpf_get_current_pid_tgid() >> 32) == TARGET) {
        int k = 3;
        u64 v = PT_REGS_IP(ctx) + PT_REGS_SP(ctx) + 1;
        hits.update(&k, &v);
    }
    return 0;
}
int on_getppid(struct pt_regs *ctx) {
    if ((bpf_get_current_pid_tgid() >> 32) == TARGET)
        hits.increment(2);
    return 0;
}
""".replace("TARGET", str(os.getpid())))
kill = b.get_syscall_fnname("kill")
b.attach_kprobe(event=kill, fn_name="syscall__kill")
b.attach_kretprobe(event=kill, fn_name="kill_return")
b.attach_kprobe(event=b"sys_getppid", fn_name="on_getppid")     # bcc fixes the prefix
check(b.num_open_kprobes() == 3, "three kprobes counted: %d" % b.num_open_kprobes())
os.kill(os.getpid(), 0)
try:
    os.kill(999999999, 0)
except OSError:
    pass
for _ in range(3):
    os.getppid()
entry, ret, ppid = (b["hits"][i].value for i in range(3))
check(entry == (999999999 << 8) | 0, "syscall arguments: %#x" % entry)
check(ret == (1 << 64) - 3, "PT_REGS_RC is the return value (-ESRCH): %d" % ret)
check(ppid == 3, "getppid counted %d times" % ppid)
b.detach_kprobe(event=kill)
b.detach_kretprobe(event=kill)
check(b.num_open_kprobes() == 1, "detached")

# A stand-in has no instruction or stack pointer: they read as 0 (a read
# past the tracepoint's record would make the kernel refuse the program).
b.attach_kprobe(event=b.get_syscall_fnname("getpid"), fn_name="ip_getpid")
os.getpid()
check(b["hits"][3].value == 1, "PT_REGS_IP/SP on a stand-in: %d" % (b["hits"][3].value - 1))
b.detach_kprobe(event=b.get_syscall_fnname("getpid"))

# A kernel function with no stand-in still refuses, naming the alternative.
try:
    b.attach_kprobe(event="vfs_read", fn_name="on_getppid")
    check(False, "attach_kprobe should raise")
except NotSupportedError as e:
    check("instead" in str(e), "alternative named: %s" % e)
try:
    b.attach_kretprobe(event_re="^vfs_rea", fn_name="on_getppid")
    check(False, "attach_kretprobe(event_re) should raise")
except NotSupportedError:
    pass
b.attach_tracepoint(tp="syscalls:sys_enter_getppid", fn_name="on_getppid")
os.getppid()
check(b["hits"][2].value == 5, "tracepoint attached too: %d" % b["hits"][2].value)
passed("kprobe_fallback")
