import fcntl
import os
import pty
import select
import struct
import termios
import subprocess
import sys
import time

import pytest

from .badinput import assert_one_line_error
from .pagecache_files import drop_pages, make_file
from .toolrun import RunningTool, run_tool

pytestmark = pytest.mark.usefixtures("root")

# Reads the file named by argv[1] each time a line comes on stdin, then says "done".
READER = r"""
import sys
sys.stdout.write("ready\n"); sys.stdout.flush()
for _ in sys.stdin:
    with open(sys.argv[1], "rb", buffering=0) as f:
        while f.read(1 << 17):
            pass
    sys.stdout.write("done\n"); sys.stdout.flush()
"""


def reader(path):
    child = subprocess.Popen([sys.executable, "-c", READER, path], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline() == "ready\n"
    return child


def read_once(child):
    child.stdin.write("go\n")
    child.stdin.flush()
    assert child.stdout.readline() == "done\n"


def cold_then_warm(tmp_path, *args):
    """The reports of cachetop -p READER around a cold and then a warm read."""
    path = str(tmp_path / "data")
    pages = make_file(path, 8)
    drop_pages(path)
    child = reader(path)
    try:
        with RunningTool("cachetop", "-p", child.pid, *args, "1", ready="Tracing") as t:
            time.sleep(0.5)
            n = len(t.lines)
            read_once(child)
            t.wait_for(lambda ln: len(t.lines) > n + 8)   # two more reports
            time.sleep(1.2)
            m = len(t.lines)
            read_once(child)
            t.wait_for(lambda ln: len(t.lines) > m + 8)
    finally:
        child.kill()
        child.wait()
    return pages, child.pid, t, n, m


def test_cachetop_batch_cold_then_warm(tmp_path):
    pages, pid, t, n, m = cold_then_warm(tmp_path, "-C")
    assert t.lines[2].split() == ["PID", "UID", "CMD", "HITS", "MISSES", "DIRTIES",
                                  "READ_HIT%", "WRITE_HIT%"], t.stdout
    assert "Buffers MB:" in t.lines[1] and "Sort: HITS / Order: descending" in t.lines[1]

    def rows(lines):
        return [ln.split() for ln in lines if ln.split()[:1] == [str(pid)]]
    cold, warm = rows(t.lines[n:m]), rows(t.lines[m:])
    assert cold and warm, t.stdout
    assert all(r[1] == "root" and r[2] == "python3" for r in cold + warm), t.stdout
    # cold: every page added to the cache (MISSES); warm: every page a hit
    assert sum(int(r[4]) for r in cold) >= pages * 0.95, (pages, cold)
    assert sum(int(r[3]) for r in warm) >= pages, (pages, warm)
    assert sum(int(r[4]) for r in warm) < pages / 2, (pages, warm)
    assert all(r[6].endswith("%") for r in cold + warm)


def test_cachetop_json(tmp_path):
    pages, pid, t, n, m = cold_then_warm(tmp_path, "--json")
    recs = t.json_records()
    assert {"ts", "buffers_mb", "cached_mb", "rows"} <= set(recs[0])
    rows = [r for rec in recs for r in rec["rows"]]
    assert rows and all(r["pid"] == pid and r["cmd"] == "python3" and r["uid"] == 0
                        for r in rows), recs
    assert set(rows[0]) == {"pid", "user", "uid", "cmd", "hits", "misses", "dirties",
                            "read_hit", "write_hit"}
    assert sum(r["hits"] for r in rows) >= pages


def test_cachetop_screen_quits_on_q():
    """On a terminal: bcc's screen (summary, header), and q ends it."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    proc = subprocess.Popen([sys.executable, "-m", "pybcc", "cachetop", "1"], stdin=slave,
                            stdout=slave, stderr=slave, env={**os.environ, "TERM": "xterm"})
    os.close(slave)
    out = b""
    try:
        deadline = time.time() + 30
        while b"WRITE_HIT%" not in out and time.time() < deadline:
            if select.select([master], [], [], 0.5)[0]:
                out += os.read(master, 65536)
        assert b"Buffers" in out and b"WRITE_HIT%" in out, out
        os.write(master, b"q")
        assert proc.wait(15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)


@pytest.mark.parametrize("args", [["0"], ["1", "0"], ["-p", "x"], ["-s", "FOO"]])
def test_cachetop_bad_input(args):
    assert_one_line_error(run_tool("cachetop", *args), "error:")
