import sys

import pytest

from .toolrun import RunningTool, bad_input, gated_child, release

pytestmark = pytest.mark.usefixtures("root")

RESOLVER = """
import os, socket, sys
sys.stdin.readline()
socket.getaddrinfo("localhost", 80)
socket.gethostbyname("localhost")
"""


@pytest.mark.parametrize("by_pid", [False, True])
def test_gethostlatency_times_lookups(by_pid):
    with gated_child([sys.executable, "-c", RESOLVER]) as child, \
            RunningTool("gethostlatency", *(["-p", child.pid] if by_pid else []),
                        ready="HOST") as t:
        assert t.lines[0].split() == ["TIME", "PID", "COMM", "LATms", "HOST"]
        release(child)
        t.wait_for(lambda ln: sum(ln.split()[1:2] == [str(child.pid)] for ln in t.lines) >= 2)
    mine = [ln.split() for ln in t.lines[1:] if ln.split()[1:2] == [str(child.pid)]]
    assert len(mine) == 2, t.stdout          # getaddrinfo, then gethostbyname
    for f in mine:
        assert f[2].startswith("python") and f[4] == "localhost", t.stdout
        assert 0 <= float(f[3]) < 5000, t.stdout
    if by_pid:
        assert len(t.lines) == 3, t.stdout


def test_gethostlatency_json_has_the_lookup_fields():
    with gated_child([sys.executable, "-c", RESOLVER]) as child, \
            RunningTool("gethostlatency", "--json", "-p", child.pid, ready="HOST") as t:
        release(child)
        t.wait_for(lambda ln: len(t.lines) >= 2)
    recs = t.json_records()
    assert len(recs) == 2, t.stdout          # getaddrinfo, then gethostbyname
    for r in recs:
        assert r == {"time": r["time"], "pid": child.pid, "comm": "python3",
                     "lat_ms": r["lat_ms"], "host": "localhost"}, r
        assert 0 <= r["lat_ms"] < 5000


@pytest.mark.parametrize("args", [["-p", "x"], ["-p", "999999999"], ["--duration", "0"]])
def test_gethostlatency_bad_input(args):
    bad_input("gethostlatency", *args)
