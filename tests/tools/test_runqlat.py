import os
import sys

import pytest

from .toolrun import RunningTool, gated_child, release
from .test_biolatency import hist_sections

pytestmark = pytest.mark.usefixtures("root")

# Waits for a line on stdin, then sleeps briefly 300 times: each wakeup is
# one run queue wait.
SLEEPER = "import sys, time\nsys.stdin.readline()\nfor _ in range(300): time.sleep(0.001)\n"


def test_runqlat_per_pid_histogram_for_one_process():
    with gated_child([sys.executable, "-c", SLEEPER]) as child:
        with RunningTool("runqlat", "-P", "-p", child.pid, ready="Tracing run queue latency") as t:
            release(child)
    assert t.proc.returncode == 0, t.stderr
    sections = hist_sections(t.lines, "pid")
    assert list(sections) == [str(child.pid)], t.stdout      # -p: nothing else
    rows = sections[str(child.pid)]
    assert sum(c for _, _, c in rows) >= 300, t.stdout
    # most waits are short: the median bucket is under 100 ms
    counts = [c for _, _, c in rows]
    half, acc = sum(counts) / 2, 0
    for low, high, c in rows:
        acc += c
        if acc >= half:
            assert high < 100_000, t.stdout
            break


def test_runqlat_pidns_interval_count():
    with RunningTool("runqlat", "--pidnss", "-m", "-T", "1", "2", ready="Tracing") as t:
        t.proc.wait(10)
    assert t.proc.returncode == 0, t.stderr
    inum = os.readlink("/proc/self/ns/pid").split("[")[1].rstrip("]")
    sections = hist_sections(t.lines, "pidns")
    assert inum in sections, t.stdout
    assert sum(1 for ln in t.lines if ln.startswith("     msecs")) >= 2, t.stdout


def test_runqlat_json_interval_has_log2_buckets_in_usecs():
    """One JSON object per interval: buckets with bcc's bounds; this test's own
    sleeping process makes sure there are wake-ups to count (-p filters to it)."""
    import json
    import subprocess
    import sys
    sleeper = subprocess.Popen([sys.executable, "-c",
                                "import time\nfor _ in range(400): time.sleep(0.005)"])
    try:
        r = subprocess.run([sys.executable, "-m", "pybcc", "runqlat", "--json", "-p",
                            str(sleeper.pid), "1", "2"], capture_output=True, text=True, timeout=60)
    finally:
        sleeper.kill()
        sleeper.wait()
    assert r.returncode == 0, r.stderr
    objs = [json.loads(ln) for ln in r.stdout.splitlines()]
    assert len(objs) == 2 and all(o["unit"] == "usecs" for o in objs), r.stdout
    buckets = [b for o in objs for h in o["histograms"] for b in h["buckets"]]
    assert sum(b["count"] for b in buckets) > 0, r.stdout
    for b in buckets:
        assert b["high"] == 1 or b["high"] == 2 * b["low"] - 1, b
