import json
import subprocess
import sys

import pytest

from pybcc.kernel.syscall_names import syscall_name, syscall_number

from .toolrun import RunningTool, bad_input, run_tool

pytestmark = pytest.mark.usefixtures("root")

# Says it is ready (its own start-up stats are over), waits for a line, then
# makes 500 getppid() calls and 7 failing (ENOENT) stats.
WORKER = """
import os, sys
print("ready", flush=True)
sys.stdin.readline()
for _ in range(500):
    os.getppid()
for _ in range(7):
    try:
        os.stat("/nonexistent-pybcc-syscount")
    except OSError:
        pass
"""


SYSCOUNT_MAP_SIZE = 10240     # entries of syscount.bpf.c's data map


def worker():
    child = subprocess.Popen([sys.executable, "-c", WORKER], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline() == "ready\n"
    with open(f"/proc/{child.pid}/comm") as f:
        child.comm = f.read().strip()
    return child


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
    # every process that stats a missing file meanwhile gets a row: show them
    # all (--top as large as the tool's map), so the child's row is among them
    with RunningTool("syscount", "-P", "-e", "ENOENT", "--syscall", "newfstatat",
                     "--top", SYSCOUNT_MAP_SIZE, ready="Ctrl+C to quit.") as t:
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
    assert r.returncode == 2 and "syscall 'nope' not found" in r.stderr


def test_syscount_json_counts_latency_and_processes():
    """--json: one object per report with the same columns as rows; by
    syscall with -L (this test's child only, -p), and by process with -P."""
    child = worker()
    with RunningTool("syscount", "--json", "-p", child.pid, "-L", "-T", "50",
                     ready="Ctrl+C to quit.") as t:
        child.communicate("go\n")
    assert t.proc.returncode == 0, t.stderr
    assert "Detaching..." in t.stderr                    # stdout is JSON only
    [obj] = t.json_records()
    assert obj["unit"] == "usecs" and isinstance(obj["ts"], float), t.stdout
    rows = {r["syscall"]: r for r in obj["rows"]}
    assert set(rows["getppid"]) == {"syscall", "count", "time_us"}, t.stdout
    assert rows["getppid"]["count"] == 500 and 0 < rows["getppid"]["time_us"] < 1e6, t.stdout
    assert rows["newfstatat"]["count"] >= 7, t.stdout

    child = worker()
    with RunningTool("syscount", "--json", "-P", "-e", "ENOENT", "-p", child.pid,
                     ready="Ctrl+C to quit.") as t:
        child.communicate("go\n")
        t.wait_for(lambda ln: False, timeout=0.5)
    assert t.proc.returncode == 0, t.stderr
    [obj] = t.json_records()
    assert obj["unit"] == "count", t.stdout
    assert obj["rows"] == [{"pid": child.pid, "comm": child.comm, "count": 7}], t.stdout


def test_syscount_json_interval_and_duration():
    r = run_tool("syscount", "--json", "-i", "1", "-d", "2", "-p", "1")
    assert r.returncode == 0, r.stderr
    objs = [json.loads(ln) for ln in r.stdout.splitlines()]
    assert len(objs) == 2 and all("rows" in o for o in objs), r.stdout


@pytest.mark.parametrize("args", [["-p", "999999999"], ["-t", "x"], ["-i", "0"],
                                  ["-T", "x"], ["-e", "ENOSUCH"]])
def test_syscount_bad_input_is_one_line(args):
    bad_input("syscount", *args)
