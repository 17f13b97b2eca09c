import os
import sys

import pytest

from pybcc.kernel import features
from pybcc.tools.funccount import parse_pattern

from .pyusdt import PYTHON, python_calling
from .toolrun import RunningTool, bad_input, gated_child, release, run_tool

pytestmark = pytest.mark.usefixtures("root")

# Waits for a line, then calls getppid() 500 times (libc getppid → syscall).
WORKER = """
import os, sys
sys.stdin.readline()
for _ in range(500):
    os.getppid()
"""


def counted(lines):
    """{FUNC: COUNT} of the last summary."""
    i = max([n for n, ln in enumerate(lines) if ln.split() == ["FUNC", "COUNT"]], default=0)
    return {ln.split()[0]: int(ln.split()[1]) for ln in lines[i + 1:]
            if len(ln.split()) == 2 and ln.split()[1].isdigit()}


def test_parse_pattern():
    assert parse_pattern("vfs_*") == ("p", "", "^vfs_.*$")
    assert parse_pattern("c:malloc") == ("p", "c", "^malloc$")
    assert parse_pattern("p:c:mal*") == ("p", "c", "^mal.*$")
    assert parse_pattern("t:sched:sched_fork") == ("t", "", "^sched:sched_fork$")
    assert parse_pattern("^vfs.*", use_regex=True) == ("p", "", "^vfs.*")
    with pytest.raises(ValueError):
        parse_pattern("x:a:b")


@pytest.mark.vm       # also on 5.10, which has no BPF cookies: counter 0 serves the one probe
@pytest.mark.parametrize("pattern,name", [
    ("t:syscalls:sys_enter_getppi*", "syscalls:sys_enter_getppid"),
    ("c:getppid", "getppid"),
])
def test_funccount_counts_one_process(pattern, name):
    with gated_child([sys.executable, "-c", WORKER]) as child, \
            RunningTool("funccount", "-p", child.pid, "-T", pattern,
                        ready="Hit Ctrl-C to end.") as t:
        assert t.lines[0] == f'Tracing 1 functions for "{pattern}"... Hit Ctrl-C to end.'
        release(child)
    assert t.lines[-1] == "Detaching...", t.stdout + t.stderr
    assert counted(t.lines) == {name: 500}, t.stdout


def test_funccount_interval_duration_and_usdt():
    r = run_tool("funccount", "-i", "1", "-d", "2", "t:syscalls:sys_enter_getppid")
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("FUNC") == 2 and r.stdout.splitlines()[-1] == "Detaching..."
    r = run_tool("funccount", "u:c:nothing")   # libc has USDT probes, but none such
    assert r.returncode == 2 and "No functions matched" in r.stderr
    r = run_tool("funccount", "t:nosuchcat:nosuchevent")   # bad input: exit 2
    assert r.returncode == 2 and "No functions matched" in r.stderr


def test_funccount_kernel_functions_without_kprobes_says_so():
    if features.has_kprobes():
        pytest.skip("this kernel has kprobes")
    r = run_tool("funccount", "vfs_read")
    assert r.returncode == 1
    assert "kprobes are not available" in r.stderr and "t:" in r.stderr


@pytest.mark.vm
@pytest.mark.parametrize("pattern", [["__x64_sys_getppi*"],          # one kprobe
                                     ["-r", "^__x64_sys_get(ppid|pgrp|sid)$"]])  # kprobe_multi
def test_funccount_kprobe(pattern):
    if not features.has_kprobes():
        if os.environ.get("PYBCC_VMTEST"):
            pytest.fail("the VM kernel should have kprobes")
        pytest.skip("kprobes are not available on this kernel")
    if not features.has_bpf_cookie() and pattern[0] == "-r":
        # several probes are told apart by BPF cookie: refused in one line (5.10)
        r = run_tool("funccount", *pattern)
        assert r.returncode == 1, r.stdout + r.stderr
        assert r.stderr.strip().splitlines() == [
            "error: ^__x64_sys_get(ppid|pgrp|sid)$: more than one probe at a time needs "
            "BPF cookies (Linux 5.15+) to tell them apart, which this kernel lacks; use one "
            "function per run instead"], r.stderr
        return
    with gated_child([sys.executable, "-c", WORKER]) as child:
        # the VM runs under TCG when KVM is missing: everything is ~20x slower
        t = RunningTool("funccount", "-p", child.pid, *pattern, ready="Hit Ctrl-C to end.",
                        timeout=300)
        release(child, timeout=300)
        t.stop(timeout=120)
    assert counted(t.lines).get("__x64_sys_getppid") == 500, t.stdout + t.stderr
    if pattern[0] == "-r":
        assert t.lines[0].startswith("Tracing 3 functions"), t.stdout


def test_funccount_json_counts_one_process_per_interval():
    """--json: one object per interval, rows {func, count} as the text's
    columns; this test's child (-p) makes exactly 500 calls."""
    with gated_child([sys.executable, "-c", WORKER]) as child, \
            RunningTool("funccount", "--json", "-p", child.pid, "-i", "1",
                        "t:syscalls:sys_enter_getppi*", ready="Hit Ctrl-C to end.") as t:
        release(child)
        assert t.wait_for_record(lambda o: o["rows"]), t.stdout   # an interval's report
    assert t.proc.returncode == 0, t.stderr
    assert "Detaching..." in t.stderr                    # stdout is JSON only
    objs = t.json_records()
    assert all(isinstance(o["ts"], float) for o in objs), t.stdout
    rows = [r for o in objs for r in o["rows"]]
    assert {r["func"] for r in rows} == {"syscalls:sys_enter_getppid"}, t.stdout
    assert sum(r["count"] for r in rows) == 500, t.stdout


@pytest.mark.parametrize("args", [["-p", "999999999", "c:malloc"], ["-c", "99999", "c:malloc"],
                                  ["-i", "-1", "c:malloc"], ["-r", "("], ["a:b:c:d"]])
def test_funccount_bad_input_is_one_line(args):
    bad_input("funccount", *args)


def test_funccount_usdt_python_function_entry():
    """u:LIB:PROBE (-r): python3.11's function__entry/return, in this test's
    child only (it calls a function 100 times a second). CPython 3.11 fires
    function__entry only while python:line is enabled: the pattern takes it too."""
    child = python_calling("pybcc_usdt_marker", seconds=30)
    try:
        with RunningTool("funccount", "-p", child.pid, "-i", "1", "--json", "-r",
                         f"u:{PYTHON}:^(function__.*|line)$", ready="Hit Ctrl-C to end.") as t:
            assert t.wait_for_record(lambda o: any(
                r["func"] == "function__entry" and r["count"] >= 50 for r in o["rows"]),
                timeout=20), t.stdout + "\n".join(t.err_lines)
        rows = {r["func"]: r["count"] for o in t.json_records() for r in o["rows"]}
        # every entry has its return (give or take the calls cut by the interval)
        assert abs(rows["function__entry"] - rows["function__return"]) <= 2, rows
        assert 'Tracing 3 functions for "u:' in t.stderr, t.stderr
    finally:
        child.kill()
        child.wait()
