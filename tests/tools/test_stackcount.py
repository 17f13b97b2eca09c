import json
import shutil
import subprocess
import sys

import pytest

from pybcc.kernel import features

from .badinput import assert_one_line_error
from .pyusdt import PYTHON, python_calling
from .toolrun import RunningTool, gated_child, release, run_tool

pytestmark = pytest.mark.usefixtures("root")

# Calls a distinctively named function 50 times per line read on stdin.
MARKER_C = r"""
#include <stdio.h>
__attribute__((noinline)) int pybcc_probe_marker(int i) { return i * 2; }
int main(void)
{
    char line[16];
    int sum = 0;
    while (fgets(line, sizeof(line), stdin))
        for (int i = 0; i < 50; i++)
            sum += pybcc_probe_marker(i);
    return sum == 42;
}
"""

# Calls getppid() 100 times once a line arrives on stdin.
GETPPID = "import os, sys\nsys.stdin.readline()\nfor _ in range(100): os.getppid()\n"


@pytest.fixture(scope="module")
def marker_binary(tmp_path_factory):
    cc = shutil.which("gcc") or shutil.which("cc") or shutil.which("clang")
    if cc is None:
        pytest.skip("no C compiler to build the probed program")
    d = tmp_path_factory.mktemp("marker")
    (d / "marker.c").write_text(MARKER_C)
    subprocess.run([cc, "-O0", "-g", "-fno-omit-frame-pointer", "-o", str(d / "pybccmarker"),
                    str(d / "marker.c")], check=True)
    return str(d / "pybccmarker")


def getppid_run(*tool_args):
    """stackcount TOOL_ARGS while a child calls getppid() 100 times: (child, its comm, the tool)."""
    with gated_child([sys.executable, "-c", GETPPID]) as child:
        with open(f"/proc/{child.pid}/comm") as f:
            comm = f.read().strip()
        with RunningTool("stackcount", *tool_args, ready='Tracing 1 functions for') as t:
            release(child)
    return child, comm, t


def test_stackcount_tracepoint_per_process_kernel_stacks():
    child, _, t = getppid_run("-P", "-K", "t:syscalls:sys_enter_getppid")
    assert t.header == ('Tracing 1 functions for "t:syscalls:sys_enter_getppid"... '
                        'Hit Ctrl-C to end.'), t.stdout
    assert t.proc.returncode == 0, t.stderr
    assert t.lines[-1] == "Detaching..."
    owner = [i for i, ln in enumerate(t.lines) if ln.endswith(" [%d]" % child.pid)]
    assert owner, t.stdout
    assert sum(int(t.lines[i + 1]) for i in owner) == 100, t.stdout
    # kernel frames, two spaces in, from the syscall entry path
    frames = [ln for ln in t.lines if ln.startswith("  ") and not ln.startswith("    ")]
    assert any("syscall" in f for f in frames), t.stdout


def test_stackcount_uprobe_user_stacks_of_one_pid(marker_binary):
    child = subprocess.Popen([marker_binary], stdin=subprocess.PIPE, text=True)
    try:
        with RunningTool("stackcount", "-U", "-p", child.pid, f"{marker_binary}:pybcc_probe_*",
                         ready="Tracing 1 functions for") as t:
            child.stdin.write("go\n")
            child.stdin.flush()
            t.wait_for(lambda ln: False, timeout=1)
        out = t.lines
    finally:
        child.kill()
        child.wait()
    assert t.proc.returncode == 0, t.stderr
    assert "  pybcc_probe_marker" in out, t.stdout
    i = out.index("  pybcc_probe_marker")
    assert out[i + 1] == "  main", t.stdout
    # -p: no "comm [pid]" line; the count follows the frames
    count_line = next(ln for ln in out[i:] if ln.startswith("    "))
    assert count_line == "    50", t.stdout


def test_stackcount_usdt_probe_of_one_pid():
    child = python_calling("marker", seconds=20)
    try:
        # (CPython 3.11 fires function__return for Python calls; not function__entry)
        with RunningTool("stackcount", "-U", "-p", child.pid,
                         f"u:{PYTHON}:function__ret*",
                         ready='Tracing 1 functions for "u:') as t:
            t.wait_for(lambda ln: False, timeout=1.5)
    finally:
        child.kill()
        child.wait()
    assert t.proc.returncode == 0, t.stderr
    counts = [int(ln) for ln in t.lines if ln.startswith("    ") and ln.strip().isdigit()]
    # about 100 calls a second
    assert counts and sum(counts) >= 30, t.stdout


def test_stackcount_folded_and_duration():
    r = run_tool("stackcount", "-f", "-D", "1", "t:sched:sched_switch", timeout=60)
    assert r.returncode == 0, r.stderr
    lines = [ln for ln in r.stdout.splitlines() if ln]
    assert lines, r.stdout
    for ln in lines:
        stack, _, n = ln.rpartition(" ")
        assert n.isdigit() and int(n) > 0, ln
    # without -P there is no process name: the line starts with ";" (or is
    # just the count when both stacks were lost, as in bcc)
    assert all(ln.startswith(";") or ln.lstrip().isdigit() for ln in lines), r.stdout
    assert any(ln.startswith(";") for ln in lines), r.stdout


def test_stackcount_kernel_function_without_kprobes_says_so():
    if features.has_kprobes():
        pytest.skip("this kernel has kprobes")
    r = run_tool("stackcount", "-D", "1", "vfs_read")
    assert r.returncode == 1
    assert "kprobes" in r.stderr and "t:CATEGORY:EVENT" in r.stderr, r.stderr


@pytest.mark.vm
def test_stackcount_kernel_function_with_kprobes():
    if not features.has_kprobes():
        pytest.skip("needs kprobes (runs in the stock-kernel VM)")
    # generous timeout: in the VM (TCG) the object is compiled against that
    # kernel's vmlinux.h first
    r = run_tool("stackcount", "-K", "-D", "2", "vfs_rea*", timeout=600)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("Tracing ") and 'functions for "vfs_rea*"' in r.stdout
    assert "  vfs_read" in r.stdout.splitlines(), r.stdout


def test_stackcount_bad_probe_type():
    r = run_tool("stackcount", "x:lib:func")
    assert r.returncode == 1 and "Type must be 'p', 't', or 'u'" in r.stderr


def test_stackcount_json_per_process_counts():
    child, comm, t = getppid_run("--json", "-P", "-K", "t:syscalls:sys_enter_getppid")
    assert t.proc.returncode == 0, t.stderr
    assert "Detaching..." in t.stderr       # stdout is JSON lines only
    [report] = t.json_records()             # one interval: until Ctrl-C
    assert report["unit"] == "events" and isinstance(report["ts"], float), report
    ours = [s for s in report["stacks"] if s["pid"] == child.pid]
    assert ours and all(s["comm"] == comm for s in ours), report
    assert sum(s["value"] for s in ours) == 100, report
    frames = [f for s in ours for f in s["frames"]]
    assert frames and all(f["kernel"] for f in frames), report
    assert any("syscall" in f["function"] for f in frames), report


def test_stackcount_json_intervals_without_per_process():
    r = run_tool("stackcount", "--json", "-i", "1", "-D", "2", "t:sched:sched_switch",
                 timeout=60)
    assert r.returncode == 0, r.stderr
    reports = [json.loads(ln) for ln in r.stdout.splitlines()]
    assert len(reports) == 2, r.stdout
    assert all(s["pid"] is None and s["comm"] is None and s["value"] > 0
               for rep in reports for s in rep["stacks"]), r.stdout
    assert any(rep["stacks"] for rep in reports), r.stdout


@pytest.mark.parametrize("args, message", [
    (["-i", "abc", "t:sched:sched_switch"], "-i/--interval: invalid number 'abc'"),
    (["-D", "-1", "t:sched:sched_switch"], "must be positive"),
    (["-p", "999999999", "t:sched:sched_switch"], "no process with pid 999999999"),
    (["-c", "4096", "t:sched:sched_switch"], "no CPU 4096"),
    (["-f", "--json", "t:sched:sched_switch"], "not allowed with"),
    (["-K", "-U", "t:sched:sched_switch"], "mutually exclusive"),
    ([], "required: pattern"),
])
def test_stackcount_bad_input_is_one_line(args, message):
    assert_one_line_error(run_tool("stackcount", *args), message)


def test_stackcount_missing_tracepoint_or_library_is_one_line():
    assert_one_line_error(run_tool("stackcount", "t:nosuch:tracepoint"), "nosuch:tracepoint")
    assert_one_line_error(run_tool("stackcount", "pybcc_no_such_lib:func"),
                          "unable to find library pybcc_no_such_lib")
