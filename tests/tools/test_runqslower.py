import subprocess
import sys
import time
import uuid

import pytest

from .toolrun import RunningTool, bad_input

pytestmark = pytest.mark.usefixtures("root")

# A CPU hog on CPU 0 with its own comm; two of them wait for each other on
# that CPU's run queue for about a time slice at a time.
HOG = """
import os, sys
os.sched_setaffinity(0, {0})
with open("/proc/self/comm", "w") as f:
    f.write(sys.argv[1])
print("ready", flush=True)
while True:
    pass
"""


def hog(name):
    proc = subprocess.Popen([sys.executable, "-c", HOG, name], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    return proc


@pytest.fixture
def two_hogs():
    marker = uuid.uuid4().hex[:6]
    hogs = []
    try:
        hogs.append(hog(f"rqa-{marker}"))
        hogs.append(hog(f"rqb-{marker}"))
        yield hogs, marker
    finally:
        for h in hogs:
            h.kill()
            h.wait()


def test_runqslower_shows_the_hog_waiting_behind_the_other(two_hogs):
    (a, b), marker = two_hogs
    with RunningTool("runqslower", "-P", "-p", b.pid, "1000", ready="PREV TID") as t:
        assert t.header.split() == ["TIME", "COMM", "TID", "LAT(us)", "PREV", "COMM",
                                    "PREV", "TID"]
        t.wait_for(lambda ln: f"rqa-{marker}" in ln, timeout=10)
        time.sleep(0.5)
    rows = [ln.split() for ln in t.lines[2:]]
    assert rows, t.stdout
    assert all(r[1] == f"rqb-{marker}" and r[2] == str(b.pid) and int(r[3]) > 1000
               for r in rows), t.stdout     # -p: only hog b, only waits > 1000 us
    assert any(r[4] == f"rqa-{marker}" and r[5] == str(a.pid) for r in rows), t.stdout
    assert t.lines[0] == "Tracing run queue latency higher than 1000 us"


def test_runqslower_tid_filter_json(two_hogs):
    (a, b), marker = two_hogs
    with RunningTool("runqslower", "-t", a.pid, "2000", "--json", ready="LAT") as t:
        rec = t.wait_for_record(lambda r: True, timeout=10)
    assert rec is not None, t.stdout
    records = t.json_records()
    assert all(r["tid"] == a.pid and r["comm"] == f"rqa-{marker}" and r["lat_us"] > 2000
               for r in records), t.stdout
    assert set(rec) == {"time", "comm", "tid", "lat_us"}


@pytest.mark.parametrize("args", [("-p", "1", "-t", "2"), ("abc",), ("-5",), ("-p", "x")])
def test_runqslower_bad_input(args):
    bad_input("runqslower", *args)
