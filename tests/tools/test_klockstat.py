import os
import re
import subprocess

import pytest

from .cprog import DIR_READERS_C, build
from .kprobes import require_kprobes
from .toolrun import RunningTool, bad_input

pytestmark = pytest.mark.usefixtures("root")

ROW = re.compile(r"^\s*(\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)$")


@pytest.fixture(scope="module")
def readers(tmp_path_factory):
    """(the program, a directory of 500 files for it to list)"""
    d = tmp_path_factory.mktemp("dirs")
    (d / "list").mkdir()
    for i in range(500):
        (d / "list" / f"file-with-a-longish-name-{i}").touch()
    return build(d, "dirs", DIR_READERS_C, libs=("-pthread",)), str(d / "list")


def contend(readers, *args, timeout=60, tracepoints=True):
    """klockstat -p CHILD ARGS over 8 threads that each list one shared
    directory fd 50 times (f_pos_lock); returns the stopped RunningTool."""
    if tracepoints and not os.path.exists("/sys/kernel/tracing/events/lock/contention_begin"):
        pytest.skip("no lock:contention_begin tracepoint (Linux 5.19+)")
    program, directory = readers
    child = subprocess.Popen([program, "8", "50", directory], stdin=subprocess.PIPE, text=True)
    t = RunningTool("klockstat", "-p", child.pid, *args, ready="Hit Ctrl-C to end.",
                    timeout=timeout)
    child.communicate("go\n", timeout=120)
    assert child.returncode == 0
    t.stop(timeout=120)
    assert t.proc.returncode == 0, t.stderr
    return t


def tables(lines):
    """{"Spin"/"Hold": [(caller, avg, count, max, total)]} of the text report."""
    out, current = {}, None
    for ln in lines:
        head = re.match(r"^\s*Caller\s+Avg (\w+)\s+Count", ln)
        if head:
            current = out.setdefault(head[1], [])
        elif current is not None and ROW.match(ln):
            m = ROW.match(ln)
            current.append((m[1], *map(int, m.groups()[1:])))
    return out


def check_rows(rows):
    for caller, avg, count, mx, total in rows:
        assert count > 0 and avg <= mx <= total and abs(avg * count - total) <= count, \
            (caller, avg, count, mx, total)


def test_klockstat_f_pos_lock_contention(readers):
    """The tracepoints: the threads wait for the file's f_pos_lock in
    fdget_pos (__fdget_pos before 6.11); no Hold table (nothing traces the
    unlock)."""
    t = contend(readers, "-S", "acq_count")
    assert t.lines[0] == "Tracing lock events... Hit Ctrl-C to end."
    found = tables(t.lines)
    assert list(found) == ["Spin"], t.stdout
    rows = found["Spin"]
    check_rows(rows)
    ours = [r for r in rows if re.match(r"_*fdget_pos\+0x", r[0])]
    assert ours and sum(r[2] for r in ours) >= 50, t.stdout
    counts = [r[2] for r in rows]
    assert counts == sorted(counts, reverse=True), t.stdout          # -S acq_count
    header = next(ln for ln in t.lines if "Caller" in ln)
    assert header == "%40s %10s %6s %10s %10s" % ("Caller", "Avg Spin", "Count", "Max spin",
                                                  "Total spin")


def test_klockstat_json_caller_and_stacks(readers):
    t = contend(readers, "--json", "-c", "fdget_pos", "-s", "3", "-n", "2")
    (obj,) = t.json_records()
    rows = obj["acquire"]
    assert len(rows) == 2 and all("fdget_pos" in r["caller"] for r in rows), obj
    maxes = [r["max"] for r in rows]
    assert maxes == sorted(maxes, reverse=True)                      # bcc's default sort
    # -s 3: the caller and two frames above it: the lseek and getdents64 paths
    assert all(len(r["stack"]) == 2 for r in rows), rows
    assert {"lseek" in r["stack"][0] or "getdents64" in r["stack"][0] for r in rows} == {True}


@pytest.mark.vm
def test_klockstat_kprobes_hold_times(readers):
    require_kprobes()
    t = contend(readers, "--kprobes", timeout=300, tracepoints=False)
    found = tables(t.lines)
    assert set(found) == {"Spin", "Hold"}, t.stdout
    for rows in found.values():
        check_rows(rows)
    holds = [r for r in found["Hold"] if "fdget_pos" in r[0]]
    # each of the 8 x 50 lseeks and getdents64 takes and releases the lock
    assert holds and sum(r[2] for r in holds) == 800, t.stdout


@pytest.mark.parametrize("args", [["-S", "acq_bogus"], ["-p", "999999999"], ["-d", "1", "-i", "1"],
                                  ["-n", "-1"]])
def test_klockstat_bad_input_is_one_line(args):
    bad_input("klockstat", *args)
