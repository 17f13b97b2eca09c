import re
import subprocess

import pytest

from .cprog import SLEEPY_C, build
from .kprobes import require_kprobes, trace_child, without_kprobes_says_so
from .toolrun import RunningTool, bad_input, run_tool

pytestmark = pytest.mark.usefixtures("root")


@pytest.fixture(scope="module")
def sleepy(tmp_path_factory):
    return build(tmp_path_factory.mktemp("sleepy"), "sleepy", SLEEPY_C)


def buckets(text):
    return {(int(m[0]), int(m[1])): int(m[2])
            for m in re.findall(r"^\s*(\d+) -> (\d+)\s*: (\d+)", text, re.M)}


def traced(sleepy, *args):
    """Run funcinterval ARGS -p CHILD over a child making 21 sleeps (20 of
    10 ms, then one of 20 ms), ~10 ms apart; returns the RunningTool."""
    child = subprocess.Popen([sleepy, "20"], stdin=subprocess.PIPE, text=True)
    with RunningTool("funcinterval", "-p", child.pid, *args, ready="Hit Ctrl-C to end.") as t:
        child.communicate("go\n")
    assert t.proc.returncode == 0 and "Detaching..." in t.stdout + t.stderr, t.stderr
    return t


def test_funcinterval_user_function_ms(sleepy):
    t = traced(sleepy, "-m", f"{sleepy}:pybcc_sleepy")
    assert t.lines[0] == 'Tracing uprobe function for "pybcc_sleepy"... Hit Ctrl-C to end.'
    hist = buckets(t.stdout)
    # 21 calls, 20 intervals of ~10 ms (more on a busy machine)
    assert sum(hist.values()) == 20 and hist[(8, 15)] >= 15, t.stdout


def test_funcinterval_tracepoint_json(sleepy):
    t = traced(sleepy, "--json", "-u", "t:syscalls:sys_enter_clock_nanosleep")
    assert 'Tracing tracepoint for "syscalls:sys_enter_clock_nanosleep"' in t.stderr
    (obj,) = t.json_records()
    assert obj["unit"] == "usecs", obj
    hist = {(b["low"], b["high"]): b["count"] for b in obj["histograms"][0]["buckets"]}
    assert sum(hist.values()) == 20 and hist[(8192, 16383)] >= 15, obj


def test_funcinterval_duration_timestamps():
    r = run_tool("funcinterval", "-i", "1", "-d", "2", "-T", "t:sched:sched_switch")
    assert r.returncode == 0, r.stderr
    assert len(re.findall(r"^\d\d:\d\d:\d\d\s*$", r.stdout, re.M)) == 2, r.stdout
    assert r.stdout.splitlines()[-1] == "Detaching..."


def test_funcinterval_kernel_function_without_kprobes_says_so():
    without_kprobes_says_so(run_tool, "funcinterval", "do_nanosleep")


@pytest.mark.vm
def test_funcinterval_kernel_function(sleepy):
    require_kprobes()
    child = subprocess.Popen([sleepy, "20"], stdin=subprocess.PIPE, text=True)
    t = trace_child("funcinterval", child, "-m", "hrtimer_nanosleep")
    assert sum(buckets(t.stdout).values()) == 20, t.stdout + t.stderr


@pytest.mark.parametrize("args", [["u:c:foo"], ["t:nosuch:event"], ["nosuchlib:foo"],
                                  ["-p", "999999999", "c:read"]])
def test_funcinterval_bad_input_is_one_line(args):
    bad_input("funcinterval", *args)


def test_funcinterval_plain_twin_counts_like_the_exchange():
    """The programs for kernels without BPF_XCHG (before 5.12) read and write
    the last call's time; here on a tracepoint, for this process only."""
    import os

    from pybcc.tools.lib.runtime import Tool
    with Tool("funcinterval", {"targ_tgid": os.getpid()}) as tool:
        tool.attach("call_tracepoint_plain", "syscalls:sys_enter_getppid")
        for _ in range(11):
            os.getppid()
        counts = sum(tool.maps["hists"].values())
    assert counts == 10
