# A bcc-dialect uprobe with a typed argument: count strlen() lengths by
# the child's pid with PT_REGS_PARM1 and bpf_probe_read_user_str, plus
# sym_re and BPF(src_file=...).
import os
import subprocess
import sys
import tempfile

from bcc import BPF
from scriptlib import check, passed

src = """
struct key_t {
    u32 pid;
    char s[32];
};
BPF_HASH(seen, struct key_t, u64);

int on_getenv(struct pt_regs *ctx) {
    struct key_t key = {};
    key.pid = bpf_get_current_pid_tgid() >> 32;
    bpf_probe_read_user_str(&key.s, sizeof(key.s), (void *)PT_REGS_PARM1(ctx));
    seen.increment(key);
    return 0;
}
"""
with tempfile.NamedTemporaryFile("w", suffix=".c", delete=False) as f:
    f.write(src)
b = BPF(src_file=f.name)
os.unlink(f.name)
b.attach_uprobe(name="c", sym_re="^getenv$", fn_name="on_getenv")
check(b.num_open_uprobes() == 1, "sym_re attached %d" % b.num_open_uprobes())
child = subprocess.run([sys.executable, "-c",
                        "import ctypes, os\n"
                        "g = ctypes.CDLL('libc.so.6').getenv\n"
                        "g(b'PYBCC_PROBE_VAR'); g(b'PYBCC_PROBE_VAR')\n"
                        "print(os.getpid())"], capture_output=True, text=True, check=True)
pid = int(child.stdout)
hits = {(k.pid, k.s): v.value for k, v in b["seen"].items()}
check(hits.get((pid, b"PYBCC_PROBE_VAR"), 0) >= 2, "getenv argument seen: %r" %
      [(p, s) for p, s in hits if p == pid][:10])
passed("uprobe_args")
