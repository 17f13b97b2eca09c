import time

import pytest

from .fileio import FileWorker, require_kprobes
from .toolrun import RunningTool, bad_input

pytestmark = pytest.mark.usefixtures("root")


def traced(tmp_path, *args):
    """dirtop -C on directories tmp/a and tmp/b while the worker does its
    I/O in tmp/a/sub; returns (tool, worker, ...)."""
    for d in ("a/sub", "b"):
        (tmp_path / d).mkdir(parents=True)
    with FileWorker(str(tmp_path / "a" / "sub")) as w:
        with RunningTool("dirtop", "-C", "-p", w.pid, "-d", f"{tmp_path}/*", *args,
                         ready="Tracing...") as t:
            w.run()
            time.sleep(1.5)
    return t


def sums(t, path):
    rows = [ln.split() for ln in t.lines if ln.endswith(" " + path)]
    return [sum(int(r[i]) for r in rows) for i in range(4)]


def test_dirtop_counts_io_under_a_directory(tmp_path):
    t = traced(tmp_path, "1")
    assert f"Considering {tmp_path}/a with inode_id {(tmp_path / 'a').stat().st_ino}" in t.lines
    assert [ln.split() for ln in t.lines if ln.startswith("READS")][0] == \
        ["READS", "WRITES", "R_Kb", "W_Kb", "PATH"]
    assert sums(t, f"{tmp_path}/a") == [8, 15, 44, 68], t.stdout
    assert sums(t, f"{tmp_path}/b") == [0, 0, 0, 0], t.stdout


def test_dirtop_json_and_two_patterns(tmp_path):
    (tmp_path / "c").mkdir()
    with FileWorker(str(tmp_path / "c")) as w:
        with RunningTool("dirtop", "--json", "-p", w.pid, "-d", f"{tmp_path}/x,{tmp_path}/c",
                         "1", "3", ready="Tracing...") as t:
            w.run()
            t.proc.wait(30)
    recs = t.json_records()
    assert len(recs) == 3, t.stdout
    rows = [r for rec in recs for r in rec["rows"]]
    assert set(rows[0]) == {"reads", "writes", "r_kb", "w_kb", "path"}
    assert {r["path"] for r in rows} == {f"{tmp_path}/c"}
    assert [sum(r[k] for r in rows) for k in ("reads", "writes", "r_kb", "w_kb")] == \
        [8, 15, 44, 68]


@pytest.mark.vm
def test_dirtop_kprobe_path(tmp_path, monkeypatch):
    require_kprobes()
    monkeypatch.setenv("PYBCC_DEBUG", "1")
    t = traced(tmp_path, "1")
    assert "kprobe vfs_write" in t.stderr, t.stderr
    assert sums(t, f"{tmp_path}/a") == [7, 13, 36, 64], t.stdout   # requested; no readv/writev


@pytest.mark.parametrize("args", [[], ["-d", "/tmp", "-p", "0"], ["-d", "/tmp", "-s", "x"],
                                  ["-d", "/tmp", "-r", "0"], ["-d", "/tmp", "0"]])
def test_dirtop_bad_input(args):
    bad_input("dirtop", *args)


def test_dirtop_no_directory():
    assert bad_input("dirtop", "-d", "/nonexistent/pybcc*", code=1) == \
        "Cannot find any valid directory"
