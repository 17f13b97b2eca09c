import pytest

from .toolrun import RunningTool, run_tool
from .test_biolatency import hist_sections
from .test_hardirqs import rows

pytestmark = pytest.mark.usefixtures("root")

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
