# Per-pid counters in a hash: items/keys/values/len, Key/Leaf, get, del,
# zero, clear, setting from Python.
import ctypes as ct
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
} counts SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getppid")
int count(void *ctx)
{
    u32 pid = bpf_get_current_pid_tgid() >> 32;
    struct task_struct *task = (struct task_struct *)bpf_get_current_task();
    /* only this process and its children: other tests run alongside */
    if (pid != TARGET && BPF_CORE_READ(task, real_parent, tgid) != TARGET)
        return 0;
    u64 one = 1, *v = bpf_map_lookup_elem(&counts, &pid);
    if (v)
        __sync_fetch_and_add(v, 1);
    else
        bpf_map_update_elem(&counts, &pid, &one, BPF_NOEXIST);
    return 0;
}
""".replace("TARGET", str(os.getpid()))

b = BPF(text=prog)
for _ in range(7):
    os.getppid()
child = subprocess.run([sys.executable, "-c",
                        "import os; [os.getppid() for _ in range(3)]; print(os.getpid())"],
                       capture_output=True, text=True, check=True)
child_pid = int(child.stdout)

counts = b["counts"]
check(counts is b.get_table("counts"), "tables are cached")
check(counts.Key is ct.c_uint and counts.Leaf is ct.c_ulong, "Key/Leaf %r %r" % (counts.Key, counts.Leaf))
mine = counts[counts.Key(os.getpid())]
check(mine.value == 7, "my count %d, want 7" % mine.value)
check(counts[ct.c_uint(child_pid)].value == 3, "child count")
pids = {k.value: v.value for k, v in counts.items()}
check(pids.get(os.getpid()) == 7 and pids.get(child_pid) == 3, "items %r" % pids)
check(len(counts) == len(pids) and len(counts.keys()) == len(pids) and
      len(counts.values()) == len(pids), "len/keys/values")
for k, v in sorted(counts.items(), key=lambda kv: kv[1].value):
    print("%-8d %d" % (k.value, v.value))

counts[counts.Key(1)] = counts.Leaf(99)
check(counts[counts.Key(1)].value == 99, "set from Python")
del counts[counts.Key(1)]
check(counts.Key(1) not in [k for k in counts], "deleted")
try:
    counts[counts.Key(1)]
    check(False, "missing key did not raise KeyError")
except KeyError:
    pass
counts.zero()
check(counts[counts.Key(os.getpid())].value == 0, "zero()")
counts.clear()
check(len(counts) == 0, "clear()")
passed("hash_counts")
