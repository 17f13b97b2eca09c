import subprocess
import sys

import pytest

from pybcc.tools.compactsnoop import STATUS, fragmentation_index

from .badinput import assert_one_line_error
from .toolrun import RunningTool, run_tool

pytestmark = pytest.mark.usefixtures("root")

# Compacts every zone (/proc/sys/vm/compact_memory) when a line comes on stdin.
COMPACTOR = r"""
import sys
sys.stdout.write("ready\n"); sys.stdout.flush()
sys.stdin.readline()
with open("/proc/sys/vm/compact_memory", "w") as f:
    f.write("1")
sys.stdout.write("done\n"); sys.stdout.flush()
sys.stdin.readline()
"""


def compact(*args):
    """compactsnoop -p CHILD around the child's whole-memory compaction."""
    child = subprocess.Popen([sys.executable, "-c", COMPACTOR], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline() == "ready\n"
        with RunningTool("compactsnoop", "-p", child.pid, *args, ready="STATUS") as t:
            child.stdin.write("go\n")
            child.stdin.flush()
            assert child.stdout.readline() == "done\n"
            t.wait_for(lambda ln: str(child.pid) in ln, timeout=10)
    finally:
        child.kill()
        child.wait()
    return child.pid, t


def test_compactsnoop_whole_memory_compaction():
    pid, t = compact("-T", "-K")
    head = t.lines[0].split()
    assert head == ["TIME(s)", "COMM", "PID", "NODE", "ZONE", "ORDER", "MODE", "LAT(ms)", "STATUS"]
    rows = [ln.split() for ln in t.lines[1:] if ln and not ln.startswith("\t")]
    assert rows and all(r[2] == str(pid) for r in rows), t.stdout
    for r in rows:
        # whole-zone compactions: no order, no zone; synchronous from the sysctl
        assert r[1] == "python3" and r[5] == "-1" and r[6] == "SYNC", r
        assert float(r[0]) >= 0 and float(r[7]) >= 0 and r[8] in STATUS.values(), r
    stacks = [ln.strip() for ln in t.lines if ln.startswith("\t")]
    assert any(f.startswith("compact_node") or "compaction_handler" in f for f in stacks), stacks


def test_compactsnoop_json_extended():
    pid, t = compact("--json", "-e")
    recs = t.json_records()
    assert recs and all(r["pid"] == pid and r["order"] == -1 for r in recs), t.stdout
    assert set(recs[0]) == {"comm", "pid", "node", "zone", "order", "mode", "fragidx", "min",
                            "low", "high", "free", "lat_ms", "status"}
    assert all(r["status"] in STATUS.values() and r["lat_ms"] >= 0 for r in recs)


def test_fragmentation_index():
    # order 4 and no free block of 16 pages: 110 blocks holding 120 pages
    assert fragmentation_index(4, [100, 10, 0, 0, 0, 0]) == 1000 - (1000 + 7500) // 110
    assert fragmentation_index(4, [100, 10, 0, 0, 1, 0]) == -1000   # would succeed
    assert fragmentation_index(4, [0] * 11) == 0
    assert fragmentation_index(3, [100, 0, 0, 0]) == -1000            # not asked


@pytest.mark.parametrize("args", [["-p", "x"], ["-d", "0"], ["-d", "x"], ["extra"]])
def test_compactsnoop_bad_input(args):
    assert_one_line_error(run_tool("compactsnoop", *args), "error:")
