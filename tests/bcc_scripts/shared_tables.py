# Tables shared between BPF objects: BPF_TABLE_PUBLIC in one, BPF_TABLE("extern")
# in another; the second object's program counts into the first one's map.
import ctypes as ct
import os

from bcc import BPF
from scriptlib import check, passed

owner = BPF(text=b"""BPF_TABLE_PUBLIC("hash", u32, u64, counts, 64);""")

user = BPF(text=b"""
BPF_TABLE("extern", u32, u64, counts, 64);
TRACEPOINT_PROBE(syscalls, sys_enter_getppid) {
    u32 pid = bpf_get_current_pid_tgid() >> 32;
    if (pid == MYPID)
        counts.increment(pid);
    return 0;
}
""", cflags=["-DMYPID=%d" % os.getpid()])
for _ in range(3):
    os.getppid()
counts = owner[b"counts"]
n = counts[counts.Key(os.getpid())].value
check(n == 3, "the owner's table saw %d getppid calls, want 3" % n)

# Written from user space through the extern table, read back from the owner.
user[b"counts"][ct.c_uint(7)] = ct.c_ulonglong(70)
check(counts[ct.c_uint(7)].value == 70, "a user-space write through the extern table")
check(user[b"counts"].max_entries == 64, "the extern table takes the owner's size")
user.cleanup()
check(counts[ct.c_uint(7)].value == 70, "the table outlives the object that borrowed it")

owner.cleanup()
try:
    BPF(text=b"""BPF_TABLE("extern", u32, u64, counts, 64);""")
    check(False, "an extern table with no owner should fail")
except Exception as e:
    check("extern table counts" in str(e), "message: %s" % e)
passed("shared_tables")
