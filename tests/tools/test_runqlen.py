import re
import subprocess
import sys

import pytest

from .toolrun import run_tool

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
