import subprocess
import sys

import pytest

from .toolrun import RunningTool, bad_input, run_tool
from .test_biolatency import hist_sections
from .test_hardirqs import rows

pytestmark = pytest.mark.usefixtures("root")

SPIN_ON_CPU0 = ("import os, time\nos.sched_setaffinity(0, {0})\nt = time.time() + 20\n"
                "while time.time() < t: pass\n")

NAMES = {"hi", "timer", "net_tx", "net_rx", "block", "irq_poll", "tasklet", "sched",
         "hrtimer", "rcu"}


def test_softirqs_counts_and_times_by_vector():
    r = run_tool("softirqs", "-C", "1", "1", timeout=60)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "Tracing soft irq events... Hit Ctrl-C to end."
    table = rows(lines, "SOFTIRQ")
    # a second always has timer and rcu softirqs
    assert table and {name for name, _ in table} <= NAMES, r.stdout
    assert "timer" in dict(table) and dict(table)["timer"] > 0, r.stdout

    r = run_tool("softirqs", "1", "1", timeout=60)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert next(ln for ln in lines if ln.startswith("SOFTIRQ")).split() == ["SOFTIRQ", "TOTAL_usecs"]
    table = dict(rows(lines, "SOFTIRQ"))
    assert "timer" in table and 0 <= table["timer"] < 1_000_000, r.stdout


def test_softirqs_histograms_stop_on_ctrl_c():
    with RunningTool("softirqs", "-d", ready="Tracing soft irq event time") as t:
        t.wait_for(lambda ln: False, timeout=1.5)
    assert t.proc.returncode == 0, t.stderr
    sections = hist_sections(t.lines, "softirq")
    assert "timer" in sections and set(sections) <= NAMES, t.stdout
    assert any(ln.split()[:1] == ["usecs"] for ln in t.lines)


def test_softirqs_json_counts_and_cpu_histograms():
    """--json: one object per interval; -C rows {softirq, total}, -d
    histograms labelled by vector name (CPU 0 only with -c)."""
    import json
    r = run_tool("softirqs", "--json", "-C", "1", "2", timeout=60)
    assert r.returncode == 0, r.stderr
    objs = [json.loads(ln) for ln in r.stdout.splitlines()]
    assert len(objs) == 2 and all(o["unit"] == "count" for o in objs), r.stdout
    for o in objs:
        table = {row["softirq"]: row["total"] for row in o["rows"]}
        assert set(table) <= NAMES and table.get("timer", 0) > 0, r.stdout

    # a task spinning on CPU 0 keeps its tick (and the softirqs it raises) going
    spinner = subprocess.Popen([sys.executable, "-c", SPIN_ON_CPU0])
    try:
        r = run_tool("softirqs", "--json", "-d", "-c", "0", "1", "1", timeout=60)
    finally:
        spinner.kill()
        spinner.wait()
    assert r.returncode == 0, r.stderr
    [obj] = [json.loads(ln) for ln in r.stdout.splitlines()]
    assert obj["unit"] == "usecs", r.stdout
    names = {h["labels"]["softirq"] for h in obj["histograms"]}
    assert names and names <= NAMES, r.stdout
    for h in obj["histograms"]:
        assert all(b["high"] == 1 or b["high"] == 2 * b["low"] - 1 for b in h["buckets"]), r.stdout


@pytest.mark.parametrize("args", [["-c", "99999"], ["x"], ["1", "-1"]])
def test_softirqs_bad_input_is_one_line(args):
    bad_input("softirqs", *args)
