# Records with bit fields, as bcc's ctypes have them: a value the kernel
# wrote is read field by field, Leaf(...) takes the declared fields in order,
# and leaf_sprintf/leaf_scanf (bcc's text form) round-trip it.
import os

from bcc import BPF
from scriptlib import check, passed

b = BPF(text=b"""
struct val_t { u64 a; u64 b; u64 c:36; u64 d:28; struct { u32 a; u32 b; } s; };
BPF_HASH(stats, int, struct val_t, 10);
TRACEPOINT_PROBE(syscalls, sys_enter_getppid) {
    if ((bpf_get_current_pid_tgid() >> 32) != MYPID)
        return 0;
    int k = 1;
    struct val_t v = {.a = 2, .b = 3, .c = 0x812345678, .d = 0xabcdef1, .s = {5, 6}};
    stats.update(&k, &v);
    return 0;
}
""", cflags=["-DMYPID=%d" % os.getpid()])
os.getppid()
t = b.get_table(b"stats")
v = t[t.Key(1)]
check((v.a, v.b, v.c, v.d, v.s.a, v.s.b) == (2, 3, 0x812345678, 0xabcdef1, 5, 6),
      "fields the kernel wrote: %r" % ((v.a, v.b, v.c, v.d, v.s.a, v.s.b),))
text = t.leaf_sprintf(v)
check(text == b"{ 0x2 0x3 0x812345678 0xabcdef1 { 0x5 0x6 } }", "leaf_sprintf %r" % text)
mine = t.Leaf(2, 3, 4, 1, (5, 6))
back = t.leaf_scanf(t.leaf_sprintf(mine))
check((back.a, back.b, back.c, back.d, back.s.a, back.s.b) == (2, 3, 4, 1, 5, 6),
      "Leaf(...) through sprintf/scanf")
t[t.Key(2)] = mine
check(t[t.Key(2)].c == 4 and t[t.Key(2)].d == 1, "written and read back through the map")
passed("bitfield_records")
