# get_table(keytype=, leaftype=) with the script's own ctypes classes, and
# trace_readline().
import ctypes as ct
import os
import time

from bcc import BPF
from scriptlib import check, passed


class Key(ct.Structure):
    _fields_ = [("pid", ct.c_uint32), ("cpu", ct.c_uint32)]


class Leaf(ct.Structure):
    _fields_ = [("calls", ct.c_uint64), ("last_ns", ct.c_uint64)]


b = BPF(text="""
struct key_t { u32 pid; u32 cpu; };
struct leaf_t { u64 calls; u64 last_ns; };
BPF_HASH(stats, struct key_t, struct leaf_t);

TRACEPOINT_PROBE(syscalls, sys_enter_getppid) {
    struct key_t k = {.pid = bpf_get_current_pid_tgid() >> 32, .cpu = bpf_get_smp_processor_id()};
    if (k.pid != TARGET)
        return 0;
    struct leaf_t zero = {}, *l = stats.lookup_or_try_init(&k, &zero);
    if (l) {
        l->calls++;
        l->last_ns = bpf_ktime_get_ns();
    }
    bpf_trace_printk("readline-test %d\\n", k.pid);
    return 0;
}
""".replace("TARGET", str(os.getpid())))
for _ in range(3):
    os.getppid()
stats = b.get_table("stats", keytype=Key, leaftype=Leaf)
items = stats.items()
check(all(isinstance(k, Key) and isinstance(v, Leaf) for k, v in items), "own classes")
check(sum(v.calls for _, v in items) == 3 and all(k.pid == os.getpid() for k, _ in items),
      "values")
line = None
deadline = time.time() + 5
while time.time() < deadline:
    line = b.trace_readline(nonblocking=True)
    if line is None:
        os.getppid()
        time.sleep(0.05)
    elif b"readline-test %d" % os.getpid() in line:
        break
check(line and line.endswith(b"readline-test %d" % os.getpid()), "trace_readline: %r" % line)
passed("custom_types")
