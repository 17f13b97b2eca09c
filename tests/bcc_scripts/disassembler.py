# bcc.disassembler through BPF.disassemble_func / BPF.decode_table: the
# loaded program's instructions and a table's layout, in bcc's text format;
# the program runs (getpid tracepoint) and counts, so it is the real one.
import os
import re

from bcc import BPF
from bcc.disassembler import disassemble_prog, decode_map
from scriptlib import check, passed

b = BPF(text="""
struct key_t { u32 pid; char comm[16]; };
BPF_HASH(counts, struct key_t, u64);
TRACEPOINT_PROBE(syscalls, sys_enter_getpid) {
    struct key_t key = {};
    key.pid = bpf_get_current_pid_tgid() >> 32;
    if (key.pid != TARGET)
        return 0;
    bpf_get_current_comm(&key.comm, sizeof(key.comm));
    counts.increment(key);
    return 0;
}
""".replace("TARGET", str(os.getpid())))
for _ in range(3):
    os.getpid()
check([v.value for v in b["counts"].values()] == [3], "the program did not count 3 getpid calls")

text = b.disassemble_func(b"tracepoint__syscalls__sys_enter_getpid")
lines = text.splitlines()
print(text)
check(lines[0] == "Disassemble of BPF program b'tracepoint__syscalls__sys_enter_getpid':", lines[0])
check(all(re.match(r"^ *\d+: (\([0-9a-f]{2}\) \S|     \(64-bit upper word\))", ln) for ln in lines[1:]),
      "a line not in bcc's form")
check(lines[-1].endswith("(95) exit"), lines[-1])
for helper in ("call bpf_get_current_pid_tgid#14", "call bpf_get_current_comm#16",
               "call bpf_map_lookup_elem#1"):
    check(any(ln.endswith(helper) for ln in lines), "no " + helper)
check(any("= <map at fd #" in ln for ln in lines), "no map load")
check(disassemble_prog("f", bytes.fromhex("b700000000000000" "9500000000000000")).splitlines()[1:] ==
      ["   0: (b7) r0 = 0", "   1: (95) exit"], "two-instruction program")

t = b["counts"]
layout = b.decode_table(b"counts", sizeinfo=True).splitlines()
print("\n".join(layout))
check(layout[0] == "Layout of BPF map b'counts' (type HASH, FD %d, ID %d):" % (t.map_fd, t.map_id), layout[0])
check(layout[1:] == ["  struct {", "    [0 +4] unsigned int pid;", "    [4 +16] char[16] comm;",
                     "  } key;", "  unsigned long long value;"], layout[1:])
check(decode_map("counts", t, 1).splitlines()[2] == "    unsigned int pid;", "no sizeinfo")
# bcc generates ISA v1 code (64-bit moves): the bytes scripts compare with
b2 = BPF(text=b"""
struct key_t {int a; short b; struct {int c:4; int d:8;} e;} __attribute__((__packed__));
BPF_HASH(bits, struct key_t);
int entry(void) { return 1; }
""")
check(b2.dump_func(b"entry") == bytes.fromhex("b700000001000000" "9500000000000000"),
      "dump_func: %s" % b2.dump_func(b"entry").hex())
# bit fields as declared, without the storage and padding pybcc's records use
layout = b2.decode_table(b"bits").splitlines()[1:]
check(layout == ["  struct {", "    int a;", "    short b;", "    struct {", "      int c:4;",
                 "      int d:8;", "    } e;", "  } key;", "  unsigned long long value;"],
      "bit field layout %r" % layout)
passed("disassembler")
