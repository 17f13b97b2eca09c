# BPF_PROG_ARRAY and tail calls: programs loaded with load_func() and
# stored in the prog array from Python.
import ctypes as ct
import os

from bcc import BPF
from scriptlib import check, passed

prog = """
BPF_PROG_ARRAY(jump, 4);
BPF_ARRAY(where, u64, 4);

int tail_one(void *ctx) {
    where.increment(1);
    return 0;
}

int tail_two(void *ctx) {
    where.increment(2);
    return 0;
}

TRACEPOINT_PROBE(syscalls, sys_enter_getppid) {
    if ((bpf_get_current_pid_tgid() >> 32) != TARGET)
        return 0;
    jump.call(args, 2);
    where.increment(0);   /* only when the tail call failed */
    return 0;
}
""".replace("TARGET", str(os.getpid()))

b = BPF(text=prog)
jump = b["jump"]
os.getppid()
check(b["where"][0].value == 1, "empty slot: fall through")
jump[ct.c_int(2)] = ct.c_int(b.load_func("tail_two", BPF.TRACEPOINT).fd)
jump[1] = b.load_func("tail_one", BPF.TRACEPOINT)
os.getppid()
w = [v.value for v in b["where"].values()]
check(w == [1, 0, 1, 0], "tail call went to slot 2: %r" % w)
del jump[2]
os.getppid()
check(b["where"][0].value == 2, "deleted slot falls through again")
passed("tail_calls")
