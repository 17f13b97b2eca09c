# Array tables: int indexes, negative indexes, len, deletion zeroes,
# struct values from BTF (table.Leaf fields), iteration over every index.
import os

from bcc import BPF
from scriptlib import HEADERS, check, passed

prog = HEADERS + r"""
struct stat_t {
    u64 count;
    u32 last_pid;
    char comm[16];
};

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 8);
    __type(key, u32);
    __type(value, struct stat_t);
} stats SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getppid")
int count(void *ctx)
{
    u32 idx = 3;
    struct stat_t *s;
    if ((bpf_get_current_pid_tgid() >> 32) != TARGET)
        return 0;
    s = bpf_map_lookup_elem(&stats, &idx);
    if (!s)
        return 0;
    s->count++;
    s->last_pid = TARGET;
    bpf_get_current_comm(&s->comm, sizeof(s->comm));
    return 0;
}
""".replace("TARGET", str(os.getpid()))

b = BPF(text=prog)
os.getppid()
os.getppid()
stats = b["stats"]
check(len(stats) == 8, "len")
s = stats[3]
check(s.count == 2 and s.last_pid == os.getpid(), "struct fields %d %d" % (s.count, s.last_pid))
check(isinstance(s.comm, bytes) and s.comm, "char[] is bytes: %r" % (s.comm,))
check(stats[-5].count == 2, "negative index")
check(len(list(stats.keys())) == 8 and [k.value for k in stats.keys()] == list(range(8)),
      "keys are every index")
leaf = stats.Leaf()
leaf.count = 77
leaf.comm = b"from-python"
stats[stats.Key(5)] = leaf
check(stats[5].count == 77 and stats[5].comm == b"from-python", "set a struct")
del stats[5]
check(stats[5].count == 0, "del zeroes")
try:
    stats[8]
    check(False, "index 8 should raise")
except (IndexError, KeyError):
    pass
stats.clear()
check(all(v.count == 0 for v in stats.values()), "clear zeroes all")
passed("array_ops")
