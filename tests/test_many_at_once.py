"""Many tools at once, stopped with SIGINT, SIGTERM and SIGKILL: nothing of
theirs stays in the kernel; concurrent first runs against an empty cache
each get a whole object."""
import os
import shutil
import signal
import subprocess
import sys

import pytest

import many_at_once as m
from pybcc import elf_reader as objmod


@pytest.fixture
def needs_bpftool(root):
    if not shutil.which("bpftool"):
        pytest.skip("needs bpftool to list programs, links and maps")


def test_many_tools_leave_nothing_behind(needs_bpftool, tmp_path):
    """Nine tools here (one of each way of attaching); benchmarks/many_at_once.py runs twenty."""
    env = dict(os.environ, PYBCC_CACHE_DIR=str(tmp_path / "cache"))
    tools = m.TOOLS if os.environ.get("PYBCC_MANY_ALL") else m.QUICK
    report = m.run(tools, settle=2.0, env=env)
    not_attached = [r["tool"] for r in report["results"] if not r["attached"]]
    assert not not_attached, f"never attached: {not_attached}\n{report['results']}"
    assert report["held"]["prog"] >= len(tools)
    for r in report["results"]:
        assert not r["traceback"], r
        if r["signal"] == "SIGKILL":
            assert r["rc"] == -signal.SIGKILL, r
        else:   # stopped cleanly: a tool exits 0 on Ctrl-C/SIGTERM, or dies of the signal
            assert r["rc"] in (0, -signal.SIGINT, -signal.SIGTERM, 128 + signal.SIGINT,
                               128 + signal.SIGTERM), r
    assert report["leftovers"] == {}, report["leftovers"]


SCRIPT = r'''
import sys
from bcc import BPF
b = BPF(text="""
// MARK
BPF_HASH(counts, u32, u64);
TRACEPOINT_PROBE(syscalls, sys_enter_getppid) { counts.increment(bpf_get_current_pid_tgid() >> 32); return 0; }
""".replace("MARK", sys.argv[1]))
print("attached", flush=True)
'''


def test_concurrent_first_runs_write_whole_objects(root, tmp_path):
    """Four first runs of one new program at once, on an empty cache: each
    succeeds, and every cached object is whole (parses, matches its name)."""
    cache = tmp_path / "cache"
    script = tmp_path / "prog.py"
    script.write_text(SCRIPT)
    mark = os.urandom(8).hex()     # a program no cache has seen
    env = dict(os.environ, PYBCC_CACHE_DIR=str(cache))
    procs = [subprocess.Popen([sys.executable, "-m", "pybcc", "run", str(script), mark], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(4)]
    outs = [p.communicate(timeout=180) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0 and "attached" in out, err
    files = [os.path.join(d, f) for d, _, fs in os.walk(cache) for f in fs]
    assert not [f for f in files if os.path.basename(f).startswith(".tmp")], files
    objects = [f for f in files if f.endswith(".o")]
    assert objects, files
    for f in objects:
        objmod.load_spec(f)     # raises on a torn file
