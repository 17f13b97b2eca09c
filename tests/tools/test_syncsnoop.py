import sys

import pytest

from .toolrun import RunningTool, bad_input, gated_child, release

pytestmark = pytest.mark.usefixtures("root")

# A child that waits for a line on stdin, then makes each sync-family call once.
SYNCER = r"""
import ctypes, mmap, os, sys, tempfile
libc = ctypes.CDLL(None, use_errno=True)
sys.stdin.readline()
fd, path = tempfile.mkstemp(prefix="pybcc-syncsnoop-")
os.write(fd, b"x" * 4096)
os.fsync(fd)
os.fdatasync(fd)
m = mmap.mmap(fd, 4096)
m.flush()                                   # msync
libc.sync_file_range(fd, ctypes.c_long(0), ctypes.c_long(4096), 2)
libc.syncfs(fd)
libc.sync()
m.close(); os.close(fd); os.unlink(path)
"""
CALLS = ["fsync", "fdatasync", "msync", "sync_file_range", "syncfs", "sync"]


def run_syncer(*tool_args):
    with gated_child([sys.executable, "-c", SYNCER]) as child, \
            RunningTool("syncsnoop", "-p", child.pid, *tool_args, ready="TIME(s)") as t:
        release(child, 30)
        assert child.returncode == 0
        t.wait_for(lambda ln: "sync" in ln.split()[-1:] or '"sync"}' in ln)
    return t


def test_syncsnoop_shows_each_sync_call_in_order():
    t = run_syncer()
    assert t.header.split() == ["TIME(s)", "COMM", "CALL"]
    rows = [ln.split() for ln in t.lines if ln != t.header]
    assert [r[2] for r in rows] == CALLS, t.stdout
    assert all(r[1] == "python3" or r[1].startswith("python") for r in rows), t.stdout
    times = [float(r[0]) for r in rows]
    assert times == sorted(times) and times[0] > 0
    assert t.proc.returncode == 0, t.stderr


def test_syncsnoop_json():
    t = run_syncer("--json")
    recs = t.json_records()
    assert [r["call"] for r in recs] == CALLS, t.stdout
    assert set(recs[0]) == {"time_s", "comm", "call"}


@pytest.mark.parametrize("args", [["-p", "x"], ["--duration", "0"], ["--nope"]])
def test_syncsnoop_bad_input(args):
    bad_input("syncsnoop", *args)
