import subprocess

import pytest

from .cprog import SLEEPY_C, build
from .kprobes import require_kprobes, trace_child, without_kprobes_says_so
from .toolrun import RunningTool, bad_input, run_tool

pytestmark = pytest.mark.usefixtures("root")


@pytest.fixture(scope="module")
def sleepy(tmp_path_factory):
    return build(tmp_path_factory.mktemp("sleepy"), "sleepy", SLEEPY_C)


def traced(sleepy, calls, *args, rows=3, timeout=15, until=None):
    """funcslower ARGS over a child making ``calls`` sleeps of 10 ms and one
    of 20 ms (inside pybcc_nested); the child lives until the tool has
    printed ``rows`` lines after the header (or a line satisfying ``until``),
    so its stacks can be named."""
    child = subprocess.Popen([sleepy, str(calls)], stdin=subprocess.PIPE, text=True)
    try:
        with RunningTool("funcslower", "-p", child.pid, *args, ready="Ctrl+C to quit.") as t:
            child.stdin.write("go\n")
            child.stdin.flush()
            # text: the header and column lines come first; JSON and folded: none
            head = 0 if "--json" in args or "-f" in args else 2
            t.wait_for(until or (lambda ln: len(t.lines) >= rows + head), timeout)
    finally:
        child.stdin.close()
        child.wait()
    assert t.proc.returncode == 0, t.stderr
    return t, child


def test_funcslower_text_with_arguments(sleepy):
    t, child = traced(sleepy, 2, "-m", "5", "-a", "2", f"{sleepy}:pybcc_sleepy")
    assert t.lines[0] == "Tracing function calls slower than 5 ms... Ctrl+C to quit."
    assert t.lines[1].split() == ["COMM", "PID", "LAT(ms)", "RVAL", "FUNC", "ARGS"], t.stdout
    rows = [ln.split() for ln in t.lines[2:]]
    assert [r[0] for r in rows] == ["sleepy"] * 3 and {r[1] for r in rows} == {str(child.pid)}
    assert [r[4] for r in rows] == ["pybcc_sleepy"] * 3
    assert [r[5] for r in rows] == ["0xa", "0xa", "0x14"], t.stdout      # ms argument
    lats = [float(r[2]) for r in rows]
    # a loaded machine stretches sleeps (121 ms for 10 ms seen): the upper
    # bound only catches a wrong unit
    assert all(9.5 <= x < 1000 for x in lats) and lats[2] >= 19.5, t.stdout


def test_funcslower_json_min_us_and_user_stack(sleepy):
    """-u 15000: only the 20 ms call; -U: its user stack, innermost first."""
    # (a busy machine stretches the 10 ms calls past 15 ms too: the test
    # waits for the 20 ms one, the call whose stack has pybcc_nested)
    t, child = traced(sleepy, 2, "--json", "-u", "15000", "-U", "-T",
                      f"{sleepy}:pybcc_sleepy", f"{sleepy}:pybcc_nested",
                      until=lambda ln: "pybcc_nested" in ln)
    assert "Tracing function calls slower than 15000 us" in t.stderr
    objs = t.json_records()
    # the nested calls' entries are replaced by the innermost one (bcc's rule)
    assert objs and all(o["func"] == "pybcc_sleepy" and o["lat"] >= 15000 for o in objs), objs
    (o,) = [o for o in objs if any(f["function"] == "pybcc_nested" for f in o["frames"])]
    assert o["comm"] == "sleepy" and o["pid"] == child.pid and o["rval"] == 0, o
    assert 20000 <= o["lat"] < 1000000, o       # the bound only catches a wrong unit
    names = [f["function"] for f in o["frames"]]
    assert names[0] == "pybcc_sleepy" and "main" in names, names


def test_funcslower_folded(sleepy):
    # one line per call: wait for both (rows=0 let the child exit after the
    # first, and under load the second was not printed yet)
    t, _ = traced(sleepy, 1, "-f", "-U", f"{sleepy}:pybcc_sleepy", rows=2)
    lines = [ln for ln in t.lines if ln.strip()]
    assert len(lines) == 2, t.stdout
    for ln in lines:
        frames, count = ln.rsplit(" ", 1)
        assert count == "1" and frames.startswith("sleepy;") and \
            frames.endswith(";main;pybcc_sleepy") or frames.endswith(";pybcc_sleepy"), ln


def test_funcslower_kernel_function_without_kprobes_says_so():
    without_kprobes_says_so(run_tool, "funcslower", "do_nanosleep")


@pytest.mark.vm
def test_funcslower_kernel_function(sleepy):
    require_kprobes()
    child = subprocess.Popen([sleepy, "3"], stdin=subprocess.PIPE, text=True)
    t = trace_child("funcslower", child, "-m", "5", "hrtimer_nanosleep", ready="Ctrl+C to quit.",
                    done=lambda lines: len(lines) >= 6)
    rows = [ln.split() for ln in t.lines[2:]]
    assert len(rows) == 4 and all(r[4] == "hrtimer_nanosleep" for r in rows), t.stdout + t.stderr


@pytest.mark.parametrize("args", [["-a", "7", "c:read"], ["nosuchlib:foo"], ["c:nosuchfunc"],
                                  ["-m", "-1", "c:read"], ["t:sched:sched_switch"]])
def test_funcslower_bad_input_is_one_line(args):
    bad_input("funcslower", *args)
