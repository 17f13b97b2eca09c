# USDT on the distribution's python3: count python:function__entry per
# function name in a child /usr/bin/python3.11 (bcc's USDT(pid=...) and
# bpf_usdt_readarg). CPython 3.11 fires function__entry only on its tracing
# path, which it takes while python:line is enabled, so enable both.
import os
import subprocess
import time

from bcc import BPF, USDT
from scriptlib import check, passed, skip

PYTHON = "/usr/bin/python3.11"
CHILD = r"""
import sys, time
def pybcc_script_marker_fn():
    return 1
print("ready", flush=True)
sys.stdin.readline()
for _ in range(50):
    pybcc_script_marker_fn()
print("done", flush=True)
sys.stdin.readline()
"""

prog = r"""
struct key_t { char fn[48]; };
BPF_HASH(calls, struct key_t, u64);
int on_entry(struct pt_regs *ctx) {
    struct key_t k = {};
    u64 fn = 0;
    bpf_usdt_readarg(2, ctx, &fn);
    bpf_probe_read_user_str(&k.fn, sizeof(k.fn), (void *)fn);
    calls.increment(k);
    return 0;
}
int on_line(struct pt_regs *ctx) { return 0; }
"""

if not os.path.exists(PYTHON):
    skip(PYTHON + " is not installed")
child = subprocess.Popen([PYTHON, "-c", CHILD], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         text=True)
try:
    check(child.stdout.readline().strip() == "ready", "child started")
    u = USDT(pid=child.pid)
    if not any(p.name == b"function__entry" or p.name == "function__entry"
               for p in u.enumerate_probes()):
        skip(PYTHON + " has no USDT probes")
    u.enable_probe(probe="function__entry", fn_name="on_entry")
    u.enable_probe(probe="line", fn_name="on_line")
    b = BPF(text=prog, usdt_contexts=[u])
    child.stdin.write("go\n")
    child.stdin.flush()
    check(child.stdout.readline().strip() == "done", "child ran")
    time.sleep(0.1)
    counts = {k.fn.decode() if isinstance(k.fn, bytes) else str(k.fn): v.value
              for k, v in b["calls"].items()}
    n = counts.get("pybcc_script_marker_fn", 0)
    print("pybcc_script_marker_fn entered %d times" % n)
    check(n == 50, "function__entry count %d != 50 (%r)" % (n, sorted(counts)[:10]))
    b.cleanup()
finally:
    child.kill()
    child.wait()
passed("usdt_python")
