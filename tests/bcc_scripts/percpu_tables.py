# Per-CPU tables: values are ctypes arrays (one slot per possible CPU);
# sum/max/average, a reducer, setting per-CPU values from Python.
import ctypes as ct
import os

from bcc import BPF
from bcc.utils import get_possible_cpus
from scriptlib import HEADERS, check, passed

prog = HEADERS + r"""
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 4);
    __type(key, u32);
    __type(value, u64);
} parr SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
    __uint(max_entries, 64);
    __type(key, u32);
    __type(value, u64);
} phash SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getppid")
int count(void *ctx)
{
    u32 k = 1, pid = bpf_get_current_pid_tgid() >> 32;
    u64 one = 1, *v;
    if (pid != TARGET)
        return 0;
    v = bpf_map_lookup_elem(&parr, &k);
    if (v)
        (*v)++;
    v = bpf_map_lookup_elem(&phash, &pid);
    if (v)
        (*v)++;
    else
        bpf_map_update_elem(&phash, &pid, &one, BPF_NOEXIST);
    return 0;
}
""".replace("TARGET", str(os.getpid()))

b = BPF(text=prog)
for _ in range(9):
    os.getppid()
ncpu = len(get_possible_cpus())
parr = b["parr"]
val = parr[1]
check(len(val) == ncpu and isinstance(val, ct.Array), "per-CPU array of %d" % ncpu)
check(sum(val) == 9, "sum of slots %d" % sum(val))
check(parr.sum(1).value == 9 and isinstance(parr.sum(1), ct.c_ulong), "sum()")
check(parr.max(1).value == max(val), "max()")
check(abs(parr.average(1) - 9 / ncpu) < 1e-9, "average()")
check(parr.Leaf is parr.sLeaf * ncpu, "Leaf is the per-CPU array type")
check(parr.sum(0).value == 0, "untouched slot")

phash = b["phash"]
check(phash.sum(phash.Key(os.getpid())).value == 9, "hash sum")
reduced = b.get_table("phash", reducer=lambda x, y: x + y)
check(reduced[reduced.Key(os.getpid())] == 9, "reducer in __getitem__")
check([v for _, v in reduced.items()] == [9], "reducer in items()")

leaf = parr.Leaf()
for i in range(ncpu):
    leaf[i] = i + 1
parr[2] = leaf
check(list(parr[2]) == list(range(1, ncpu + 1)), "per-CPU set")
del parr[2]
check(sum(parr[2]) == 0, "delete zeroes")
passed("percpu_tables")
