import re
import subprocess
import sys
import time
import uuid

import pytest

from .badinput import assert_one_line_error
from .pyusdt import PYTHON, python_calling
from .toolrun import RunningTool, run_tool

pytestmark = pytest.mark.usefixtures("root")

# Waits (without reading anything) for the go file, then reads known sizes.
READER = """
import os, sys, time
go = sys.argv[1]
while not os.path.exists(go):
    time.sleep(0.02)
fd = os.open("/dev/zero", os.O_RDONLY)
for _ in range(50):
    os.read(fd, 3000)
for _ in range(7):
    os.read(fd, 100)
time.sleep(30)
"""


@pytest.fixture
def reader(tmp_path):
    go = tmp_path / f"go-{uuid.uuid4().hex[:6]}"
    child = subprocess.Popen([sys.executable, "-c", READER, str(go)])
    time.sleep(0.5)                # past its start-up reads
    yield child, go
    child.kill()
    child.wait()


def test_argdist_histogram_of_tracepoint_field(reader):
    child, go = reader
    spec = "t:syscalls:sys_enter_read():u64:args->count"
    with RunningTool("argdist", "-c", "-p", child.pid, "-H", spec, ready="[") as t:
        go.touch()
        line = t.wait_for(lambda ln: re.match(r"\s+2048 -> 4095\s+: 50\s+\|\*+\|$", ln))
    assert line is not None, t.stdout + t.stderr
    out = t.stdout
    assert re.search(r"^     args->count\s+: count     distribution$", out, re.M), out
    assert re.search(r"^\s+64 -> 127\s+: 7\s+\|\*+\s*\|$", out, re.M), out
    assert re.search(r"^\[\d\d:\d\d:\d\d\]$", out, re.M), out
    assert t.proc.returncode == 0, t.stderr


def test_argdist_count_with_label_and_filter(reader):
    child, go = reader
    spec = "t:syscalls:sys_enter_read():u64:args->count:args->count>1000#big reads"
    with RunningTool("argdist", "-c", "-p", child.pid, "-C", spec, ready="[") as t:
        go.touch()
        line = t.wait_for(lambda ln: ln.strip() == "50         args->count = 3000")
    assert line is not None, t.stdout + t.stderr
    assert "big reads" in t.lines and "\tCOUNT      EVENT" in t.lines, t.stdout
    assert not any("args->count = 100" in ln for ln in t.lines), t.stdout


def test_argdist_json_histogram_and_counts(reader):
    child, go = reader
    hist = "t:syscalls:sys_enter_read():u64:args->count"
    count = "t:syscalls:sys_enter_read():u64:args->count#read sizes"
    with RunningTool("argdist", "--json", "-c", "-p", child.pid, "-H", hist, "-C", count,
                     ready="Tracing 2 probes") as t:
        go.touch()
        rec = t.wait_for_record(lambda r: any(c["values"] == {"args->count": 100}
                                              and c["count"] == 7
                                              for p in r["probes"] for c in p.get("counts", [])))
    assert rec is not None, t.stdout + t.stderr
    assert isinstance(rec["ts"], float)
    counts, histogram = rec["probes"]
    assert counts["label"] == "read sizes" and counts["specifier"] == count, counts
    assert {"count": 50, "values": {"args->count": 3000}} in counts["counts"], counts
    assert histogram["label"] == "args->count", histogram
    buckets = {(b["low"], b["high"]): b["count"] for b in histogram["buckets"]}
    assert buckets[(2048, 4095)] == 50 and buckets[(64, 127)] == 7, histogram
    assert all(ln.startswith("{") for ln in t.lines), t.stdout


@pytest.mark.parametrize("args, message", [
    (["-p", "abc", "-C", "t:syscalls:sys_enter_read()"], "invalid pid 'abc'"),
    (["-t", "999999999", "-C", "t:syscalls:sys_enter_read()"], "no process with pid 999999999"),
    (["-i", "0", "-C", "t:syscalls:sys_enter_read()"], "must be positive"),
    (["-i", "-1", "-C", "t:syscalls:sys_enter_read()"], "must be positive"),
    (["-d", "x", "-C", "t:syscalls:sys_enter_read()"], "invalid number 'x'"),
    (["-n", "abc", "-C", "t:syscalls:sys_enter_read()"], "invalid number 'abc'"),
    (["-z", "0", "-C", "t:syscalls:sys_enter_read()"], "must be positive"),
    (["-T", "-2", "-C", "t:syscalls:sys_enter_read()"], "must not be negative"),
    ([], "at least one specifier is required"),
])
def test_argdist_bad_input_is_one_line(args, message):
    assert_one_line_error(run_tool("argdist", *args), message)


@pytest.mark.parametrize("spec, message, code", [
    ("t:pybcc_nosuch:event():u64:args->x", "pybcc_nosuch:event", 2),
    ("p:pybcc_no_such_lib:foo()", "unable to find library pybcc_no_such_lib", 2),
    ("x:lib:func", "probe type must be", 1),
])
def test_argdist_bad_probe_is_one_line(spec, message, code):
    assert_one_line_error(run_tool("argdist", "-C", spec), message, code)


def test_argdist_usdt_probe_counts_and_histogram():
    child = python_calling("pybcc_argdist_fn")
    try:
        # function__return's arguments: file name, function name, line number
        with RunningTool("argdist", "--json", "-p", child.pid,
                         "-C", f"u:{PYTHON}:function__return():char*:arg2",
                         "-H", f"u:{PYTHON}:function__return():int:arg3",
                         ready="Tracing 2 probes") as t:
            rec = t.wait_for_record(lambda r: any(
                c["values"] == {"arg2": "pybcc_argdist_fn"} and c["count"] >= 20
                for c in r["probes"][0]["counts"]))
    finally:
        child.kill()
        child.wait()
    assert rec is not None, t.stdout + t.stderr
    counts, histogram = rec["probes"]
    [ours] = [c["count"] for c in counts["counts"] if c["values"] == {"arg2": "pybcc_argdist_fn"}]
    assert ours <= 110, rec                 # at most 100 calls in the 1 s interval
    # the function returns at line 3: every return of the interval is in 2..3
    # (its probe attached after the counting one: it may have fewer)
    full = [(b["low"], b["high"], b["count"]) for b in histogram["buckets"] if b["count"]]
    assert len(full) == 1 and full[0][:2] == (2, 3) and full[0][2] >= 20, rec


def test_argdist_reads_through_pointers(points):
    binary, header = points
    spec = f"p:{binary}:walk(struct point *p):int:p->next->x:p->y == 7"
    with RunningTool("argdist", "--json", "-c", "-I", header, "-C", spec,
                     ready="Tracing 1 probes") as t:
        for _ in range(3):
            subprocess.run([binary, "5"])
        rec = t.wait_for_record(lambda r: r["probes"][0]["counts"])
    assert rec is not None, t.stdout + t.stderr
    assert rec["probes"][0]["counts"] == [{"count": 3, "values": {"p->next->x": 6}}], rec
