# bcc's SymbolCache (BPF._sym_cache, bcc.SymbolCache): a name to its address
# in this process and back, and kernel addresses, checked against a BPF
# stack of this process's own getpid() call through libc.
import ctypes
import os

from bcc import BPF, SymbolCache
from scriptlib import check, passed

user = BPF._sym_cache(os.getpid())
check(isinstance(user, SymbolCache) and BPF._sym_cache(os.getpid()) is user, "one cache per pid")
libc = ctypes.CDLL(None)
getpid = ctypes.cast(libc.getpid, ctypes.c_void_p).value
addr = user.resolve_name(b"c", b"getpid")
check(addr == getpid, "resolve_name(c, getpid) = %#x, dlsym says %#x" % (addr, getpid))
name, offset, module = user.resolve(getpid + 2, True)
check((name, offset) == (b"getpid", 2) and b"libc" in module, (name, offset, module))
check(user.resolve_name(b"c", b"no_such_function_here") == -1, "absent name not -1")
check(user.resolve(8, False) == (None, 8, None), user.resolve(8, False))

kernel = BPF._sym_cache(-7)
check(kernel is BPF._sym_cache(-1), "every negative pid is the kernel")
sched = kernel.resolve_name(None, b"schedule")
check(sched > 0 and sched == BPF.ksymname(b"schedule"), "kernel resolve_name")
name, offset, _ = kernel.resolve(sched + 5, True)
check((name, offset) == (b"schedule", 5), (name, offset))

# A user stack taken by BPF in getpid resolves through the cache to getpid.
b = BPF(text="""
BPF_STACK_TRACE(stacks, 64);
BPF_ARRAY(ids, int, 1);
TRACEPOINT_PROBE(syscalls, sys_enter_getpid) {
    if ((bpf_get_current_pid_tgid() >> 32) != TARGET)
        return 0;
    int id = stacks.get_stackid(args, BPF_F_USER_STACK);
    ids.update(&(int){0}, &id);
    return 0;
}
""".replace("TARGET", str(os.getpid())))
libc.syscall(39)     # getpid(2) from libc's syscall(): the stack's first frame is in libc
libc.getpid()
stack_id = b["ids"][0].value
check(stack_id >= 0, "no stack taken")
frames = [user.resolve(a, True) for a in b["stacks"].walk(stack_id)]
check(any(m and b"libc" in m for _, _, m in frames), frames)
passed("symbol_cache")
