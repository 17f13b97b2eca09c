import contextlib
import json
import subprocess

import pytest

from pybcc.kernel import features

from .badinput import assert_one_line_error
from .loopdev import loop_device
from .memcg import go, memory_cgroup, process_in
from .toolrun import RunningTool, run_tool

pytestmark = pytest.mark.usefixtures("root")

LIMIT = 32 << 20
# Touches 64 MiB (twice its cgroup's limit) and then reads it all again:
# half of it must come back from swap.
HOG = r"""
import sys
with open("/proc/self/comm", "w") as f:
    f.write("pybcc-swapper")
sys.stdout.write("ready\n"); sys.stdout.flush()
sys.stdin.readline()
size = 64 << 20
buf = bytearray(size)
for i in range(0, size, 4096):
    buf[i] = 1
total = sum(buf[i] for i in range(0, size, 4096))
sys.stdout.write("done %d\n" % total); sys.stdout.flush()
sys.stdin.readline()
"""


@contextlib.contextmanager
def swap_device():
    """Swap on a loop device of the test's own, the only swap while it lasts."""
    with open("/proc/swaps") as f:
        if len(f.read().splitlines()) > 1:
            pytest.skip("this machine already has swap: the test's swap-ins would not be ours")
    with loop_device(128) as (dev, _):
        if subprocess.run(["mkswap", f"/dev/{dev}"], capture_output=True).returncode != 0:
            pytest.skip("mkswap failed")
        r = subprocess.run(["swapon", f"/dev/{dev}"], capture_output=True, text=True)
        if r.returncode != 0:
            pytest.skip(f"swapon failed: {r.stderr.strip()}")
        try:
            yield dev
        finally:
            subprocess.run(["swapoff", f"/dev/{dev}"], capture_output=True)


def swap_some(*args):
    """swapin's output while a process in a small memory cgroup swaps."""
    with swap_device(), memory_cgroup(LIMIT, swap=True) as procs, process_in(procs, HOG) as hog:
        with RunningTool("swapin", *args, "1", ready="Counting swap ins", timeout=300) as t:
            go(hog)
            assert hog.stdout.readline() == "done %d\n" % 16384, "the hog's pages"
            n = len(t.lines)
            t.wait_for(lambda ln: len(t.lines) > n + 3, timeout=60)
    return hog.pid, t


def test_swapin_counts_a_process_swapins():
    pid, t = swap_some()
    rows = [ln.split() for ln in t.lines if ln.split()[:2] == ["pybcc-swapper", str(pid)]]
    assert rows, t.stdout
    # 32 MiB over the limit was swapped out and read back (readahead adds pages)
    assert sum(int(r[2]) for r in rows) >= 4096, rows
    assert any(ln.split() == ["COMM", "PID", "COUNT"] for ln in t.lines)
    assert any(len(ln) == 8 and ln.count(":") == 2 for ln in t.lines), "timestamps"


def test_swapin_json_notime():
    pid, t = swap_some("--json", "-T")
    rows = [r for ln in t.lines if ln.startswith("{") for r in json.loads(ln)["rows"]
            if r["pid"] == pid]
    assert rows and all(r["comm"] == "pybcc-swapper" for r in rows), t.stdout
    assert sum(r["count"] for r in rows) >= 4096


@pytest.mark.vm
def test_swapin_kprobe():
    if not features.has_kprobes():
        pytest.skip("no kprobes on this kernel")
    test_swapin_counts_a_process_swapins()


@pytest.mark.parametrize("args", [["0"], ["1", "0"], ["x"]])
def test_swapin_bad_input(args):
    assert_one_line_error(run_tool("swapin", *args), "error:")
