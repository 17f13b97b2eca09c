import os
import time

import pytest

from .fileio import FileWorker, require_kprobes
from .loopdev import loop_device
from .toolrun import RunningTool, bad_input

pytestmark = pytest.mark.usefixtures("root")

HEADER = ["TID", "COMM", "READS", "WRITES", "R_Kb", "W_Kb", "T", "FILE"]


def traced(directory, *args):
    """filetop -C on the worker's process while it does its I/O once."""
    with FileWorker(directory) as w:
        with RunningTool("filetop", "-C", "-p", w.pid, *args, ready="Tracing...") as t:
            w.run()
            time.sleep(1.5)     # one more interval: the rows are printed
    return t, w


def rows_of(t, name):
    """READS, WRITES, R_Kb, W_Kb summed over the intervals, and the types."""
    rows = [ln.split() for ln in t.lines if ln.endswith(" " + name)]
    sums = [sum(int(r[i]) for r in rows) for i in (2, 3, 4, 5)]
    return sums, {r[6] for r in rows}, rows


def test_filetop_counts_reads_and_writes_of_a_file(tmp_path):
    t, w = traced(str(tmp_path), "1")
    assert any(" loadavg: " in ln for ln in t.lines)
    assert [ln.split() for ln in t.lines if ln.startswith("TID")][0] == HEADER
    sums, types, rows = rows_of(t, w.name)
    assert sums == [8, 15, 44, 68], t.stdout
    assert types == {"R"} and all(int(r[0]) == w.pid for r in rows)
    # /dev/null is not a regular file: only with -a
    assert not rows_of(t, "null")[2], t.stdout


def test_filetop_all_files_read_only_and_sort(tmp_path):
    t, w = traced(str(tmp_path), "-a", "--write-only", "-s", "wbytes", "1")
    sums, types, _ = rows_of(t, w.name)
    assert sums == [0, 15, 0, 68], t.stdout
    sums, types, _ = rows_of(t, "null")
    assert sums[1] == 3 and types == {"O"}, t.stdout


def test_filetop_directory_filter_on_ext4():
    with loop_device(fstype="ext4") as (_, mnt):
        other = os.path.join(mnt, "other")
        os.mkdir(other)
        t, w = traced(mnt, "-d", other, "1")
        assert any(ln.startswith("Tracing directory: " + other) for ln in t.lines)
        assert not rows_of(t, w.name)[2], t.stdout
        t, w = traced(mnt, "-d", mnt, "1")
        assert rows_of(t, w.name)[0] == [8, 15, 44, 68], t.stdout


def test_filetop_json_and_count(tmp_path):
    with FileWorker(str(tmp_path)) as w:
        with RunningTool("filetop", "--json", "-p", w.pid, "1", "3", ready="Tracing...") as t:
            w.run()
            t.proc.wait(30)
    recs = t.json_records()
    assert len(recs) == 3 and all(set(r) == {"ts", "loadavg", "rows"} for r in recs), t.stdout
    mine = [r for rec in recs for r in rec["rows"] if r["file"] == w.name]
    assert set(mine[0]) == {"tid", "comm", "reads", "writes", "r_kb", "w_kb", "t", "file"}
    assert [sum(r[k] for r in mine) for k in ("reads", "writes", "r_kb", "w_kb")] == \
        [8, 15, 44, 68], t.stdout


def test_filetop_maxrows(tmp_path):
    t, w = traced(str(tmp_path), "-a", "-r", "1", "1")
    per_interval = 0
    for ln in t.lines:
        if ln.startswith("TID"):
            per_interval = 0
        elif ln and not ln.endswith("...") and "loadavg" not in ln and ln.split()[0].isdigit():
            per_interval += 1
            assert per_interval <= 1, t.stdout


@pytest.mark.parametrize("args", [["-p", "0"], ["-r", "0"], ["-s", "size"], ["x"],
                                  ["--read-only", "--write-only"]])
def test_filetop_bad_input(args):
    bad_input("filetop", *args)


def test_filetop_missing_directory():
    bad_input("filetop", "-d", "/nonexistent/pybcc", code=1)


@pytest.mark.vm
def test_filetop_kprobe_path_counts_requested_sizes(tmp_path, monkeypatch):
    require_kprobes()
    monkeypatch.setenv("PYBCC_DEBUG", "1")
    t, w = traced(str(tmp_path), "1")
    assert "kprobe" in t.stderr and "vfs_read" in t.stderr, t.stderr
    # vfs_read/vfs_write see read/pread and write/pwrite, not readv/writev
    assert rows_of(t, w.name)[0] == [7, 13, 36, 64], t.stdout


def test_names_cut_as_bcc_cuts_them():
    from pybcc.tools.lib.rwcalls import dentry_name
    assert dentry_name(b"x" * 32, 32) == "x" * 32
    assert dentry_name(b"y" * 39, 50) == "y" * 29 + "..."
