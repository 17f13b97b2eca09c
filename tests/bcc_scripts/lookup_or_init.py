# table.lookup_or_init() gives a pointer the program may use without a NULL
# check (bcc leaves the program when it cannot have the element);
# lookup_or_try_init() needs the check. Counted per pid on a tracepoint.
import os

from bcc import BPF
from scriptlib import check, passed

b = BPF(text=b"""
BPF_HASH(counts, u32, u64);
BPF_HASH(tries, u32, u64);
TRACEPOINT_PROBE(syscalls, sys_enter_getppid) {
    u32 pid = bpf_get_current_pid_tgid() >> 32;
    u64 zero = 0;
    if (pid != MYPID)
        return 0;
    u64 *n = counts.lookup_or_init(&pid, &zero);
    (*n)++;
    u64 *t = tries.lookup_or_try_init(&pid, &zero);
    if (t)
        (*t) += 2;
    return 0;
}
""", cflags=["-DMYPID=%d" % os.getpid()])
for _ in range(4):
    os.getppid()
key = b[b"counts"].Key(os.getpid())
check(b[b"counts"][key].value == 4, "lookup_or_init counted %d, want 4" % b[b"counts"][key].value)
check(b[b"tries"][key].value == 8, "lookup_or_try_init counted %d, want 8" % b[b"tries"][key].value)
passed("lookup_or_init")
