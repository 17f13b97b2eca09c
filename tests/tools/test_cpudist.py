import sys

import pytest

from .toolrun import RunningTool, bad_input, gated_child, release
from .test_biolatency import hist_sections

pytestmark = pytest.mark.usefixtures("root")

# Waits for a line on stdin, then sleeps 50 ms ten times.
SLEEPER = "import sys, time\nsys.stdin.readline()\nfor _ in range(10): time.sleep(0.05)\n"


def offcpu_of_sleeper(*args):
    """cpudist -O -m -P -e (and ``args``) on a sleeper, from before its first
    sleep until it exits; returns (the stopped RunningTool, the sleeper)."""
    with gated_child([sys.executable, "-c", SLEEPER]) as child:
        with RunningTool("cpudist", *args, "-O", "-m", "-P", "-e", "-p", child.pid,
                         ready="Tracing off-CPU time... Hit Ctrl-C to end.") as t:
            release(child)
    return t, child


def test_cpudist_offcpu_sees_50ms_sleeps_of_one_process():
    t, child = offcpu_of_sleeper()
    assert t.proc.returncode == 0, t.stderr
    # bcc's section line is "pid = PID COMM" (plus /proc's newline); the
    # process is gone by now, so just the pid
    sections = hist_sections(t.lines, "pid")
    assert list(sections) == [str(child.pid)], t.stdout
    # ten 50 ms sleeps: 32-63 ms, or a bucket more when the machine is busy
    slept = sum(c for lo, hi, c in sections[str(child.pid)] if 32 <= lo and hi <= 127)
    assert slept >= 8, t.stdout
    assert any(ln.startswith("avg = ") and "msecs" in ln for ln in t.lines), t.stdout


def test_cpudist_oncpu_interval_count():
    with RunningTool("cpudist", "-T", "1", "1", ready="Tracing on-CPU time") as t:
        t.proc.wait(10)
    assert t.proc.returncode == 0, t.stderr
    assert any(ln.split()[:1] == ["usecs"] for ln in t.lines), t.stdout


def test_cpudist_json_offcpu_buckets_of_one_process():
    """--json: per-pid histograms of this test's sleeper only (-p), with the
    ten 50 ms sleeps in the msecs buckets and the -e total/count."""
    t, child = offcpu_of_sleeper("--json")
    assert t.proc.returncode == 0, t.stderr
    objs = t.json_records()
    assert objs and all(o["unit"] == "msecs" for o in objs), t.stdout
    hists = [h for o in objs for h in o["histograms"]]
    assert {h["labels"]["pid"] for h in hists} == {str(child.pid)}, t.stdout
    slept = sum(b["count"] for h in hists for b in h["buckets"]
                if 32 <= b["low"] and b["high"] <= 127)
    assert slept >= 8, t.stdout
    count = sum(o["extension"]["count"] for o in objs)
    total = sum(o["extension"]["total"] for o in objs)
    assert count >= 10 and total >= 8 * 50, t.stdout


@pytest.mark.parametrize("args", [["-p", "999999999"], ["-p", "abc"], ["-1"],
                                  ["--duration", "x"]])
def test_cpudist_bad_input_is_one_line(args):
    bad_input("cpudist", *args)
