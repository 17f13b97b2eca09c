import re
import subprocess
import sys

import pytest

from .toolrun import bad_input, run_tool

pytestmark = pytest.mark.usefixtures("root")

LINEAR_ROW = re.compile(r"^\s+(\d+)\s+: (\d+)\s+\|")
SPIN = "import time\nt = time.time() + 20\nwhile time.time() < t: pass\n"


def linear_sections(lines):
    """{cpu or None: {runqlen: count}}."""
    out, cur = {}, None
    for ln in lines:
        if ln.startswith("cpu = "):
            cur = out.setdefault(int(ln[6:]), {})
        elif LINEAR_ROW.match(ln):
            if cur is None:
                cur = out.setdefault(None, {})
            n, c = map(int, LINEAR_ROW.match(ln).groups())
            cur[n] = c
    return out


def test_runqlen_sees_queued_tasks_under_load():
    # more CPU-bound tasks than CPUs: someone is waiting in most samples
    import os
    spinners = [subprocess.Popen([sys.executable, "-c", SPIN]) for _ in range(os.cpu_count() * 2)]
    try:
        r = run_tool("runqlen", "-C", "1", "1", timeout=60)
        occ = run_tool("runqlen", "-O", "1", "1", timeout=60)
    finally:
        for p in spinners:
            p.kill()
            p.wait()
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0] == "Sampling run queue length... Hit Ctrl-C to end."
    per_cpu = linear_sections(r.stdout.splitlines())
    assert set(per_cpu) and None not in per_cpu, r.stdout
    total = sum(c for h in per_cpu.values() for c in h.values())
    # 99 Hz on each CPU for a second
    assert total >= 50, r.stdout
    assert sum(c for h in per_cpu.values() for n, c in h.items() if n >= 1) >= total // 4, r.stdout
    assert any(ln.split()[:1] == ["runqlen"] for ln in r.stdout.splitlines())

    assert occ.returncode == 0, occ.stderr
    m = re.search(r"^runqocc: (\d+\.\d\d)%$", occ.stdout, re.M)
    assert m and float(m.group(1)) > 20, occ.stdout


def test_runqlen_json_per_cpu_and_occupancy_under_load():
    """--json: one object per interval, a linear histogram per CPU (bounds
    low == high), and -O's occupancy as rows, while this test's spinners
    keep every CPU's queue non-empty."""
    import json
    import os
    spinners = [subprocess.Popen([sys.executable, "-c", SPIN]) for _ in range(os.cpu_count() * 2)]
    try:
        r = run_tool("runqlen", "--json", "-C", "1", "2", timeout=60)
        occ = run_tool("runqlen", "--json", "-O", "-C", "1", "1", timeout=60)
    finally:
        for p in spinners:
            p.kill()
            p.wait()
    assert r.returncode == 0, r.stderr
    assert "Sampling run queue length" in r.stderr          # stdout is JSON only
    objs = [json.loads(ln) for ln in r.stdout.splitlines()]
    assert len(objs) == 2 and all(o["unit"] == "tasks" for o in objs), r.stdout
    for o in objs:
        cpus = {h["labels"]["cpu"] for h in o["histograms"]}
        assert cpus == {str(c) for c in range(os.cpu_count())}, r.stdout
        buckets = [b for h in o["histograms"] for b in h["buckets"]]
        assert all(b["low"] == b["high"] for b in buckets), r.stdout
        total = sum(b["count"] for b in buckets)
        assert total >= 50, r.stdout                          # 99 Hz per CPU
        assert sum(b["count"] for b in buckets if b["low"] >= 1) >= total // 4, r.stdout

    assert occ.returncode == 0, occ.stderr
    [o] = [json.loads(ln) for ln in occ.stdout.splitlines()]
    assert o["unit"] == "percent", occ.stdout
    assert [row["cpu"] for row in o["rows"]] == list(range(os.cpu_count())), occ.stdout
    assert all(20 < row["runqocc"] <= 100 for row in o["rows"]), occ.stdout


@pytest.mark.parametrize("args", [["-1"], ["x"], ["--duration", "0"]])
def test_runqlen_bad_input_is_one_line(args):
    bad_input("runqlen", *args)
