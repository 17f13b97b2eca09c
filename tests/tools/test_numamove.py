import json

import pytest

from pybcc.kernel import features
from pybcc.tools.numamove import STAT_NUM, numa_nodes

from .badinput import assert_one_line_error
from .toolrun import run_tool

pytestmark = pytest.mark.usefixtures("root")


def test_numamove_reports_each_second():
    r = run_tool("numamove", "1", "3")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "%-10s %18s %18s" % ("TIME", "NUMA_migrations", "NUMA_migrations_ms")
    assert len(lines) == 4
    for ln in lines[1:]:
        t, num, ms = ln.split()
        assert t.count(":") == 2 and int(num) >= 0 and int(ms) >= 0, ln
    if numa_nodes() < 2:
        assert "one NUMA node: no NUMA migrations will happen" in r.stderr
        assert all(ln.split()[1:] == ["0", "0"] for ln in lines[1:]), r.stdout


def test_numamove_json():
    r = run_tool("numamove", "--json", "1", "2")
    assert r.returncode == 0, r.stderr
    recs = [json.loads(ln) for ln in r.stdout.splitlines()]
    assert len(recs) == 2 and set(recs[0]) == {"ts", "time", "numa_migrations",
                                               "numa_migrations_ms"}


def test_numamove_tracepoints_count_migrations():
    """The tracepoint path's counting, proven on migrations this machine
    has: those of memory compaction (reason MR_COMPACTION = 0), which the
    same programs count when told that reason."""
    from pybcc.tools.lib.runtime import Tool
    with Tool("numamove", {"targ_reason": 0}) as tool:
        tool.attach("pages_start")
        tool.attach("pages_done")
        with open("/proc/sys/vm/compact_memory", "w") as f:
            f.write("1")
        calls = tool.maps["stats"][STAT_NUM]
    with open("/proc/vmstat") as f:
        stats = dict(line.split() for line in f)
    if calls == 0 and int(stats.get("compact_migrate_scanned", 0)) == 0:
        pytest.skip("compaction migrated nothing")
    assert calls > 0


@pytest.mark.vm
def test_numamove_fentry_or_kprobe():
    """On a stock kernel the functions are probed (one NUMA node in the VM:
    the rows are zero)."""
    if not features.has_kprobes():
        pytest.skip("no kprobes on this kernel")
    from pybcc.tools.lib.runtime import Tool
    from pybcc.tools.numamove import attach
    with Tool("numamove") as tool:
        attach(tool)
        assert not any("tracepoint" in m for m in tool.mechanisms), tool.mechanisms


@pytest.mark.parametrize("args", [["0"], ["1", "0"], ["x"]])
def test_numamove_bad_input(args):
    assert_one_line_error(run_tool("numamove", *args), "error:")
