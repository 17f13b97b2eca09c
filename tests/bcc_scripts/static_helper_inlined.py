# bcc inlines a program's static functions: a helper that copies a fixed
# 8 bytes from the string literal its caller passes (btrfsdist's
# trace_return(ctx, "fsync") and memcpy(&key.op, op, 8)) gets a constant,
# and the verifier never sees a read past the end of the literals.
import os

from bcc import BPF
from scriptlib import check, passed

prog = """
struct key_t { char op[8]; u64 slot; };
BPF_HASH(ops, struct key_t, u64);
BPF_HASH(start, u32, u64);

// as big as btrfsdist's trace_return, and called from as many programs: left
// to itself clang keeps it a function of its own
static int count(const char *op)
{
    u32 tid = bpf_get_current_pid_tgid();
    u64 *tsp = start.lookup(&tid);
    u64 delta = tsp ? bpf_ktime_get_ns() - *tsp : 0;
    struct key_t key = {.slot = bpf_log2l(delta)};
    __builtin_memcpy(&key.op, op, sizeof(key.op));
    ops.increment(key);
    start.delete(&tid);
    return 0;
}

TRACEPOINT_PROBE(syscalls, sys_enter_getppid) {
    if ((bpf_get_current_pid_tgid() >> 32) != PID)
        return 0;
    char *op = "read";
    return count(op);
}

TRACEPOINT_PROBE(syscalls, sys_enter_getpgid) {
    if ((bpf_get_current_pid_tgid() >> 32) != PID)
        return 0;
    return count("fsync");
}

TRACEPOINT_PROBE(syscalls, sys_enter_getsid) {
    if ((bpf_get_current_pid_tgid() >> 32) != PID)
        return 0;
    return count("write");
}

TRACEPOINT_PROBE(syscalls, sys_enter_getpriority) {
    if ((bpf_get_current_pid_tgid() >> 32) != PID)
        return 0;
    return count("open");
}
"""

b = BPF(text=prog.replace("PID", str(os.getpid())))
os.getppid()
os.getpgid(0)
os.getsid(0)
os.getpriority(os.PRIO_PROCESS, 0)
got = {}
for k, v in b["ops"].items():
    op = bytes(k.op).split(b"\0")[0]
    got[op] = got.get(op, 0) + v.value
check(got == {b"read": 1, b"fsync": 1, b"write": 1, b"open": 1}, "counts %r" % got)
passed("static_helper_inlined")
