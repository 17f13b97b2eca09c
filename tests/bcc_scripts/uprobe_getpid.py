# uprobe on libc's getpid: count calls per process, from a child process
# (bcc's name="c"), plus a pid-filtered uprobe and detach_uprobe.
import os
import subprocess
import sys

from bcc import BPF
from scriptlib import HEADERS, check, passed

prog = HEADERS + r"""
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 10240);
    __type(key, u32);
    __type(value, u64);
} calls SEC(".maps");

SEC("uprobe")
int count_getpid(struct pt_regs *ctx)
{
    u32 pid = bpf_get_current_pid_tgid() >> 32;
    u64 one = 1, *v = bpf_map_lookup_elem(&calls, &pid);
    if (v)
        __sync_fetch_and_add(v, 1);
    else
        bpf_map_update_elem(&calls, &pid, &one, BPF_NOEXIST);
    return 0;
}
"""

CHILD = """
import ctypes, os, sys
libc = ctypes.CDLL("libc.so.6")
sys.stdin.readline()
for _ in range(25):
    libc.getpid()
print(os.getpid(), flush=True)
"""

b = BPF(text=prog)
b.attach_uprobe(name="c", sym="getpid", fn_name="count_getpid")
check(b.num_open_uprobes() == 1, "num_open_uprobes")
child = subprocess.Popen([sys.executable, "-c", CHILD], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
out, _ = child.communicate("go\n", timeout=30)
child_pid = int(out)
calls = b["calls"]
n = calls[calls.Key(child_pid)].value
print("child %d called getpid %d times" % (child_pid, n))
check(n >= 25, "child count %d < 25" % n)
b.detach_uprobe(name="c", sym="getpid")
check(b.num_open_uprobes() == 0, "detached")

# Only one process: pid=
calls.clear()
b.attach_uprobe(name="libc.so.6", sym="getpid", fn_name="count_getpid", pid=os.getpid())
child = subprocess.Popen([sys.executable, "-c", CHILD], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
out, _ = child.communicate("go\n", timeout=30)
import ctypes
ctypes.CDLL("libc.so.6").getpid()
keys = [k.value for k in calls.keys()]
check(keys == [os.getpid()], "pid filter: keys %r" % keys)
passed("uprobe_getpid")
