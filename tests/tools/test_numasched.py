"""numasched against a child that moves itself between two CPUs 100 times:
from one NUMA node to another where the machine has two, else (as on the
project machines) between two CPUs of its one node, where nothing may be
reported and the tool says why."""
import glob
import os
import re
import sys

import pytest

from .badinput import assert_one_line_error
from .toolrun import RunningTool, gated_child, release, run_tool

pytestmark = pytest.mark.usefixtures("root")

MOVER = """
import os, sys, time
a, b = int(sys.argv[1]), int(sys.argv[2])
sys.stdin.readline()
for i in range(100):
    os.sched_setaffinity(0, {a if i % 2 else b})
    time.sleep(0.001)
"""


def node_cpus():
    """{node: [cpus]} of this machine."""
    out = {}
    for path in glob.glob("/sys/devices/system/node/node[0-9]*/cpulist"):
        node = int(re.search(r"node(\d+)", path).group(1))
        cpus = []
        for part in open(path).read().strip().split(","):
            lo, _, hi = part.partition("-")
            if lo:
                cpus += range(int(lo), int(hi or lo) + 1)
        if cpus:
            out[node] = cpus
    return out


def two_cpus():
    """(cpu a, node of a, cpu b, node of b): on two nodes when there are two."""
    nodes = node_cpus() or {0: list(range(os.cpu_count()))}
    if len(nodes) >= 2:
        (na, ca), (nb, cb) = list(nodes.items())[:2]
        return ca[0], na, cb[0], nb
    (n, cpus), = nodes.items()
    if len(cpus) < 2:
        pytest.skip("needs two CPUs")
    return cpus[0], n, cpus[1], n


def test_numasched_reports_node_switches_only():
    a, na, b, nb = two_cpus()
    with gated_child([sys.executable, "-c", MOVER, str(a), str(b)]) as child, \
            RunningTool("numasched", "-p", child.pid, "--json",
                        ready="Tracing task NUMA switch...") as t:
        release(child, 30)
        assert child.returncode == 0
    assert t.proc.returncode == 0, t.stderr
    records = t.json_records()
    assert all(r["pid"] == child.pid and r["tid"] == child.pid for r in records), records
    if na == nb:
        assert not records, records
        assert "this machine has one NUMA node (%d): no task can switch nodes" % na in t.stderr
    else:
        assert len(records) >= 50, records
        assert all({r["src_nid"], r["dst_nid"]} == {na, nb} for r in records), records


def test_numasched_text_header():
    r = run_tool("numasched", "--duration", "1", "-c", "no-such-comm")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        "Tracing task NUMA switch...",
        "%-8s %-8s %-8s %-8s    %-8s %-8s" % ("TIME", "PID", "TID", "SRC_NID", "DST_NID", "COMM")]


@pytest.mark.parametrize("args, message", [
    (["-p", "abc"], "invalid pid 'abc'"),
    (["-t", "999999999"], "no process with pid 999999999"),
    (["--duration", "0"], "must be positive"),
])
def test_numasched_bad_input_is_one_line(args, message):
    assert_one_line_error(run_tool("numasched", *args), message)
