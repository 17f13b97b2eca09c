import subprocess
import sys

import pytest

from pybcc.kernel.syscall_names import syscall_name, syscall_number

from .toolrun import RunningTool, run_tool

pytestmark = pytest.mark.usefixtures("root")

# Waits for a line, then makes 500 getppid() calls and 7 failing (ENOENT) stats.
WORKER = """
import os, sys
sys.stdin.readline()
for _ in range(500):
    os.getppid()
for _ in range(7):
    try:
        os.stat("/nonexistent-pybcc-syscount")
    except OSError:
        pass
"""


def worker():
    return subprocess.Popen([sys.executable, "-c", WORKER], stdin=subprocess.PIPE, text=True)


def test_syscall_table():
    assert syscall_name(0, "x86_64") == "read"
    assert syscall_name(257, "x86_64") == "openat"
    assert syscall_name(999) == "[unknown: 999]"
    assert syscall_number("getppid", "x86_64") == 110
    assert syscall_name(56, "aarch64") == "openat"


def test_syscount_counts_and_latency_of_one_process():
    child = worker()
    with RunningTool("syscount", "-p", child.pid, "-L", "-T", "50",
                     ready="Ctrl+C to quit.") as t:
        assert t.lines[0] == "Tracing syscalls, printing top 50... Ctrl+C to quit."
        child.communicate("go\n")
    out = t.lines
    assert out[-1] == "Detaching...", t.stdout
    assert out[2].split() == ["SYSCALL", "COUNT", "TIME", "(us)"], t.stdout
    rows = {ln.split()[0]: ln.split()[1:] for ln in out[3:-2]}
    assert rows["getppid"][0] == "500", t.stdout
    assert 0 < float(rows["getppid"][1]) < 1e6, t.stdout


def test_syscount_failures_by_process_and_syscall_filter():
    child = worker()
    with RunningTool("syscount", "-P", "-e", "ENOENT", "--syscall", "newfstatat",
                     ready="Ctrl+C to quit.") as t:
        assert t.lines[0] == "Tracing syscall 'newfstatat'... Ctrl+C to quit."
        child.communicate("go\n")
        t.wait_for(lambda ln: False, timeout=0.5)
    assert t.lines[2].split() == ["PID", "COMM", "COUNT"], t.stdout
    row = [ln.split() for ln in t.lines if ln.split()[:1] == [str(child.pid)]]
    assert row and row[0][-1] == "7", t.stdout


def test_syscount_duration_list_and_errors():
    r = run_tool("syscount", "-d", "1", "-i", "1", "-p", "1")
    assert r.returncode == 0 and r.stdout.splitlines()[-1] == "Detaching...", r.stderr
    assert r.stdout.count("SYSCALL") == 1
    r = run_tool("syscount", "-l")
    assert "getppid" in r.stdout.split()
    r = run_tool("syscount", "--syscall", "nope")
    assert r.returncode == 1 and "syscall 'nope' not found" in r.stdout
