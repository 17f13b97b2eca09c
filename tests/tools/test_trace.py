import os
import re
import shutil
import subprocess
import threading
import uuid

import pytest

from pybcc.kernel import features

from .badinput import assert_one_line_error
from .pyusdt import PYTHON, python_calling
from .toolrun import RunningTool, run_tool

pytestmark = pytest.mark.usefixtures("root")

MARKER_C = r"""
#include <stdlib.h>
#include <unistd.h>
__attribute__((noinline)) int marker_fn(int x, const char *s) { return x + s[0]; }
int main(int argc, char **argv) {
    int r = 0;
    for (int i = 1; i < argc; i++)
        r += marker_fn(atoi(argv[i]), argv[i]);
    if (getenv("MARKER_HOLD"))      /* stay, so that its stacks can be symbolized */
        sleep(atoi(getenv("MARKER_HOLD")));
    return r & 1;
}
"""


@pytest.fixture(scope="module")
def marker_bin(tmp_path_factory):
    if shutil.which("gcc") is None:
        pytest.skip("gcc is needed to build the uprobe target")
    d = tmp_path_factory.mktemp("trace")
    (d / "marker.c").write_text(MARKER_C)
    subprocess.run(["gcc", "-O1", "-fno-omit-frame-pointer", "-o", str(d / "marker"),
                    str(d / "marker.c")], check=True)
    return str(d / "marker")


def open_in_thread(path):
    """Try to open ``path`` from a new thread of this process; its tid."""
    tid = []

    def opener():
        tid.append(threading.get_native_id())
        try:
            open(path)
        except FileNotFoundError:
            pass
    th = threading.Thread(target=opener)
    th.start()
    th.join()
    return tid[0]


def test_trace_tracepoint_field_string():
    path = f"/tmp/pybcc-trace-{uuid.uuid4().hex[:8]}"
    probe = 't:syscalls:sys_enter_openat "open %s", args->filename'
    # -p: only our opens (a busy machine opens more than trace can print)
    with RunningTool("trace", "-p", os.getpid(), probe, ready="FUNC") as t:
        assert t.lines[0].split() == ["PID", "TID", "COMM", "FUNC", "-"]
        tid = open_in_thread(path)
        line = t.wait_for(lambda ln: path in ln)
    assert line is not None, t.stdout + t.stderr
    f = line.split()
    assert f[0] == str(os.getpid()) and f[1] == str(tid), line
    assert f[-3:] == ["sys_enter_openat", "open", path], line
    assert t.proc.returncode == 0, t.stderr


def test_trace_uprobe_arg_filter_and_max_events(marker_bin):
    probe = f'p:{marker_bin}:marker_fn (arg1 > 4000) "x=%d s=%s", arg1, arg2'
    with RunningTool("trace", "-M", "2", "-T", probe, ready="FUNC") as t:
        p = subprocess.Popen([marker_bin, "17", "4242", "99", "5005"])
        p.wait()
        line = t.wait_for(lambda ln: "x=5005" in ln)
        t.proc.wait(15)           # -M 2: it stops by itself after two events
    assert line is not None, t.stdout + t.stderr
    events = [ln for ln in t.lines if "marker_fn" in ln]
    assert len(events) == 2, t.stdout
    f = events[0].split()
    assert f[1] == f[2] == str(p.pid) and f[3] == "marker" and f[4] == "marker_fn", events[0]
    assert events[0].endswith("x=4242 s=4242") and events[1].endswith("x=5005 s=5005"), t.stdout
    assert ":" in f[0]            # -T: HH:MM:SS
    assert t.proc.returncode == 0, t.stderr


def test_trace_kprobe_says_not_supported():
    if features.has_kprobes():
        pytest.skip("this kernel has kprobes")
    r = run_tool("trace", "do_sys_openat2")
    assert r.returncode == 1
    assert "kprobes" in r.stderr and "t:syscalls:sys_enter_openat" in r.stderr, r.stderr


def test_trace_bad_probe_is_reported():
    r = run_tool("trace", 'x:foo:bar "%d", arg1')
    assert r.returncode == 1
    assert "probe type must be" in r.stderr + r.stdout


@pytest.mark.vm
def test_trace_kprobe_user_string_and_retprobe():
    if not features.has_kprobes():
        if os.environ.get("PYBCC_VMTEST"):
            pytest.fail("the VM kernel should have kprobes")
        pytest.skip("no kprobes on this kernel")
    path = f"/tmp/pybcc-trace-{uuid.uuid4().hex[:8]}"
    with RunningTool("trace", 'do_sys_openat2 "%s", arg2@user',
                     'r::do_sys_openat2 (retval < 0) "ret=%d", retval', ready="FUNC",
                     timeout=600) as t:   # the VM compiles for its own kernel, slowly
        try:
            open(path)
        except FileNotFoundError:
            pass
        line = t.wait_for(lambda ln: path in ln, timeout=60)
        ret = t.wait_for(lambda ln: "ret=-2" in ln and ln.split()[0] == str(os.getpid()),
                         timeout=60)
    assert line is not None and line.split()[3] == "do_sys_openat2", t.stdout + t.stderr
    assert ret is not None, t.stdout + t.stderr


def test_trace_json_tracepoint_event_fields():
    path = f"/tmp/pybcc-trace-{uuid.uuid4().hex[:8]}"
    with RunningTool("trace", "--json", "-C", "-p", os.getpid(),
                     't:syscalls:sys_enter_openat "open %s", args->filename', ready="FUNC") as t:
        tid = open_in_thread(path)
        rec = t.wait_for_record(lambda r: r["message"] == "open " + path)
    assert rec is not None, t.stdout + t.stderr
    assert rec["pid"] == os.getpid() and rec["tid"] == tid, rec
    assert rec["func"] == "sys_enter_openat" and isinstance(rec["cpu"], int), rec
    with open("/proc/self/comm") as f:         # a new thread starts with its process's
        assert rec["comm"] == f.read().strip(), rec
    assert "frames" not in rec, rec
    # the header goes to stderr; stdout is JSON lines only
    assert "PID     TID     COMM" in t.stderr and all(ln.startswith("{") for ln in t.lines)


def test_trace_json_uprobe_with_user_stack_and_aggregate(marker_bin):
    probe = f'p:{marker_bin}:marker_fn "x=%d", arg1'
    with RunningTool("trace", "--json", "-U", "-M", "3", "-A", probe, ready="FUNC") as t:
        p = subprocess.Popen([marker_bin, "7", "7", "7"], env=dict(os.environ, MARKER_HOLD="20"))
        try:
            t.proc.wait(15)           # -M 3: it stops by itself
        finally:
            p.kill()
            p.wait()
    records = t.json_records()
    # -A: the three identical events as one record with its count
    assert len(records) == 1, t.stdout
    rec = records[0]
    assert rec["count"] == 3 and rec["pid"] == rec["tid"] == p.pid, rec
    assert rec["comm"] == "marker" and rec["message"] == "x=7", rec
    assert rec["frames"] and not any(f["kernel"] for f in rec["frames"]), rec
    assert rec["frames"][0]["function"].startswith("marker_fn+0x0 [marker]"), rec


@pytest.mark.parametrize("args, message", [
    (["-p", "abc", "t:syscalls:sys_enter_openat"], "invalid pid 'abc'"),
    (["-L", "999999999", "t:syscalls:sys_enter_openat"], "no process with pid 999999999"),
    (["-Z", "-5", "t:syscalls:sys_enter_openat"], "must be positive"),
    (["-Z", "100000", "t:syscalls:sys_enter_openat"], "at most 4096"),
    (["-M", "0", "t:syscalls:sys_enter_openat"], "must be positive"),
    (["-b", "x", "t:syscalls:sys_enter_openat"], "invalid number 'x'"),
    (["-u", "t:syscalls:sys_enter_openat"], "requires -t"),
    (["-A", "t:syscalls:sys_enter_openat"], "should be specified with -A"),
    (["-c", "/nonexistent-cgroup", "t:syscalls:sys_enter_openat"], "no such cgroup"),
    ([], "required: probe"),
])
def test_trace_bad_input_is_one_line(args, message):
    assert_one_line_error(run_tool("trace", *args), message)


def test_trace_missing_tracepoint_is_one_line():
    assert_one_line_error(run_tool("trace", "t:pybcc_nosuch:event"), "pybcc_nosuch:event")


def test_trace_usdt_probes_with_arguments():
    child = python_calling("pybcc_usdt_fn")
    try:
        # CPython 3.11 fires function__entry only while python:line is
        # enabled: the third probe (never printing) enables it
        with RunningTool("trace", "-p", child.pid,
                         f'u:{PYTHON}:function__entry "%s:%d %s", arg1, arg3, arg2',
                         f'u:{PYTHON}:python:function__return "ret %s", arg2',
                         f"u:{PYTHON}:line (0)", ready="FUNC") as t:
            entry = t.wait_for(lambda ln: ln.endswith(" <string>:2 pybcc_usdt_fn"))
            ret = t.wait_for(lambda ln: ln.endswith(" ret pybcc_usdt_fn"))
    finally:
        child.kill()
        child.wait()
    assert entry is not None and ret is not None, t.stdout + t.stderr
    assert entry.split()[:4] == [str(child.pid), str(child.pid), "python3.11", "function__entry"]
    assert ret.split()[3] == "python:function__return", ret
    assert t.proc.returncode == 0, t.stderr


def test_trace_usdt_probe_not_in_binary_is_one_line():
    python_calling("pybcc_usdt_fn", seconds=0).wait()      # (skips without the probes)
    assert_one_line_error(run_tool("trace", f"u:{PYTHON}:pybcc_no_such_probe"),
                          "pybcc_no_such_probe not found")


def test_trace_sym_file_list_names_user_frames_by_build_id(marker_bin):
    from pybcc.symbols import load_elf
    if not load_elf(marker_bin).build_id:
        pytest.skip("the C compiler made no build id")
    probe = f'p:{marker_bin}:marker_fn "x=%d", arg1'
    # the frames are recorded as (build id, offset) and named from the files
    # given to -s: the process is gone by then, and that does not matter
    with RunningTool("trace", "-U", "-M", "1", "-s", f"{marker_bin},libc.so.6", probe,
                     ready="FUNC") as t:
        subprocess.run([marker_bin, "31"])
        t.proc.wait(15)
    assert t.lines[0] == "Note: Kernel bpf will report stack map with ip/build_id", t.stdout
    i = next(i for i, ln in enumerate(t.lines) if ln.endswith("x=31"))
    assert t.lines[i + 1] == "        marker_fn+0x0 [marker]", t.stdout
    assert t.lines[i + 2].endswith(" [libc.so.6]") and "[unknown]" not in t.lines[i + 2], t.stdout


def test_trace_sym_file_list_must_exist():
    assert_one_line_error(run_tool("trace", "-U", "-s", "/nonexistent/pybcc-sym",
                                   "t:syscalls:sys_enter_getppid"),
                          "-s: no such binary or library: /nonexistent/pybcc-sym")


def test_trace_kernel_stack_under_each_event():
    with RunningTool("trace", "-K", "-a", "-M", "2", "-p", os.getpid(),
                     't:syscalls:sys_enter_getppid "ppid"', ready="FUNC") as t:
        os.getppid()
        os.getppid()
        t.proc.wait(15)
    events = [i for i, ln in enumerate(t.lines) if ln.endswith("sys_enter_getppid ppid")]
    assert len(events) == 2, t.stdout
    # 8 spaces, the address (-a), name+offset [kernel]; a blank line ends the stack
    end = t.lines.index("", events[0])
    frames = t.lines[events[0] + 1:end]
    assert frames and all(re.match(r"^        [0-9a-f]{16} \w+\+0x[0-9a-f]+ \[kernel\]$", f)
                          for f in frames), t.stdout
    assert any("syscall" in f for f in frames), t.stdout


def test_trace_reads_through_pointers(points):
    binary, header = points
    # p->y and p->next->x are user memory: read, not loaded directly
    probe = f'p:{binary}:walk(struct point *p) (p->next->y > 40) "y=%d next.x=%d", p->y, p->next->x'
    with RunningTool("trace", "-I", header, "-M", "1", probe, ready="FUNC") as t:
        subprocess.run([binary, "10"])     # filtered out: next->y is 12
        subprocess.run([binary, "40"])
        t.proc.wait(15)
    assert [ln.split()[-2:] for ln in t.lines if "walk" in ln] == [["y=7", "next.x=41"]], \
        t.stdout + t.stderr


def test_trace_duration_stops_it():
    r = run_tool("trace", "--duration", "1", "-p", os.getpid(), "t:syscalls:sys_enter_getppid",
                 timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0].split() == ["PID", "TID", "COMM", "FUNC"], r.stdout
