import os
import subprocess
import sys
import time

import pytest

from pybcc.kernel import features

from .fileio import FileWorker, require_kprobes
from .loopdev import loop_device
from .toolrun import RunningTool, bad_input

pytestmark = pytest.mark.usefixtures("root")

HEADER = ["TIME(s)", "COMM", "TID", "D", "BYTES", "LAT(ms)", "FILENAME"]

# Reads 4096 bytes from the FIFO argv[1] that a writer fills 0.3 s after
# "go": one read of about 300 ms (a FIFO has ->read_iter: synchronous I/O).
FIFO_READER = r"""
import os, sys
fd = os.open(sys.argv[1], os.O_RDWR)     # RDWR: the open does not wait for a writer
os.write(1, b"ready\n")
sys.stdin.readline()
os.read(fd, 4096)
os.write(1, b"done\n")
sys.stdin.readline()
"""


def slow_fifo_read(tmp_path, *args):
    fifo = str(tmp_path / "pybcc-slow-fifo")
    os.mkfifo(fifo)
    child = subprocess.Popen([sys.executable, "-c", FIFO_READER, fifo],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline() == "ready\n"
        with RunningTool("fileslower", "-p", child.pid, *args, ready="Tracing") as t:
            child.stdin.write("go\n")
            child.stdin.flush()
            time.sleep(0.3)
            with open(fifo, "wb") as w:
                w.write(b"s" * 100)
            assert child.stdout.readline() == "done\n"
            t.wait_for(lambda ln: "pybcc-slow-fifo" in ln, timeout=5)
    finally:
        child.kill()
        child.wait()
    return t, child.pid


def test_fileslower_reports_a_slow_fifo_read(tmp_path):
    t, pid = slow_fifo_read(tmp_path, "-a", "100")
    assert t.lines[0] == "Tracing sync read/writes slower than 100 ms"
    assert t.lines[1].split() == HEADER
    rows = [ln.split() for ln in t.lines if ln.endswith("pybcc-slow-fifo")]
    assert len(rows) == 1, t.stdout
    _, comm, tid, d, size, lat, _ = rows[0]
    assert comm.startswith("python") and tid == str(pid) and d == "R"
    # tracepoints: 100 bytes transferred; kprobes (bcc): 4096 requested
    assert size in ("100", "4096") and 290 <= float(lat) < 2000, rows


def test_fileslower_skips_fifos_without_all_files(tmp_path):
    t, _ = slow_fifo_read(tmp_path, "100")
    assert not [ln for ln in t.lines if "pybcc-slow-fifo" in ln], t.stdout


def test_fileslower_json(tmp_path):
    t, pid = slow_fifo_read(tmp_path, "-a", "--json", "100")
    recs = [r for r in t.json_records() if r["filename"] == "pybcc-slow-fifo"]
    assert len(recs) == 1, t.stdout
    assert set(recs[0]) == {"time_s", "comm", "tid", "d", "bytes", "lat_ms", "filename"}
    assert recs[0]["tid"] == pid and recs[0]["d"] == "R" and recs[0]["lat_ms"] >= 290


def all_io(directory, *args):
    with FileWorker(directory) as w:
        with RunningTool("fileslower", "-p", w.pid, *args, "0", ready="Tracing") as t:
            w.run()
            t.wait_for(lambda ln: False, timeout=1)
    return t, w


def test_fileslower_zero_threshold_shows_every_io_on_ext4():
    with loop_device(fstype="ext4") as (_, mnt):
        t, w = all_io(mnt)
    rows = [ln.split() for ln in t.lines if ln.endswith(" " + w.name)]
    reads = [r for r in rows if r[3] == "R"]
    writes = [r for r in rows if r[3] == "W"]
    if features.has_kprobes():
        assert (len(reads), len(writes)) == (7, 13), t.stdout
    else:
        assert (len(reads), len(writes)) == (8, 15), t.stdout
        assert sum(int(r[4]) for r in reads) == 44 * 1024
        assert sum(int(r[4]) for r in writes) == 68 * 1024
    assert not [ln for ln in t.lines if ln.endswith(" null")], t.stdout


def test_fileslower_all_files_shows_dev_null(tmp_path):
    t, w = all_io(str(tmp_path), "-a")
    nulls = [ln.split() for ln in t.lines if ln.endswith(" null")]
    assert len(nulls) == 3 and all(r[3] == "W" and r[4] == "100" for r in nulls), t.stdout


@pytest.mark.vm
def test_fileslower_kprobe_path(tmp_path, monkeypatch):
    require_kprobes()
    monkeypatch.setenv("PYBCC_DEBUG", "1")
    t, _ = slow_fifo_read(tmp_path, "-a", "100")
    assert "kretprobe" in t.stderr and "vfs_read" in t.stderr, t.stderr
    rows = [ln.split() for ln in t.lines if ln.endswith("pybcc-slow-fifo")]
    assert len(rows) == 1 and rows[0][4] == "4096", t.stdout     # requested, as bcc


@pytest.mark.parametrize("args", [["-p", "0"], ["-1"], ["x"], ["--duration", "0"]])
def test_fileslower_bad_input(args):
    bad_input("fileslower", *args)
