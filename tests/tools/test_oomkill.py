import json
import os
import re
import signal
from types import SimpleNamespace

import pytest

from pybcc.kernel import features
from pybcc.tools.oomkill import COLUMNS, format_event, kill_row, open_tool, system_pages

from pybcc.output.table import Table

from .memcg import go, memory_cgroup, process_in
from .toolrun import RunningTool, bad_input, run_tool

pytestmark = pytest.mark.usefixtures("root")


def test_oomkill_line_format():
    # the record's fields as the BTF decoder gives them (char[] as bytes)
    e = SimpleNamespace(fpid=123, tpid=456, pages=2048, fcomm=b"stress", tcomm=b"hog")
    line = format_event(e, "0.50 0.40 0.30 1/100 4242", when="12:34:56")
    assert line == ('12:34:56 Triggered by PID 123 ("stress"), OOM kill of PID 456 ("hog"), '
                    '2048 pages, loadavg: 0.50 0.40 0.30 1/100 4242')


def test_oomkill_json_row():
    e = SimpleNamespace(fpid=123, tpid=os.getpid(), pages=0, fcomm=b"stress", tcomm=b"",
                        memcg_max=0, memcg_swap_max=0, memcg_swappiness=-1)
    row = Table(COLUMNS, json=True).as_dict(kill_row(e, "0.50 0.40", when="12:34:56"))
    with open(f"/proc/{os.getpid()}/comm") as f:
        comm = f.read().strip()
    # the tracepoint's missing values filled in: the victim's name, the system's pages
    assert row == {"time": "12:34:56", "fpid": 123, "fcomm": "stress", "tpid": os.getpid(),
                   "tcomm": comm, "pages": system_pages(), "loadavg": "0.50 0.40"}


def test_oomkill_json_mode_keeps_stdout_for_json():
    r = run_tool("oomkill", "--json", "--duration", "0.5")
    assert r.returncode == 0 and r.stdout == "", (r.stdout, r.stderr)
    assert r.stderr == "Tracing OOM kills... Ctrl-C to stop.\n"


@pytest.mark.parametrize("args", [["--duration", "-1"], ["--duration", "x"], ["extra"]])
def test_oomkill_bad_input(args):
    bad_input("oomkill", *args)


def test_system_pages():
    pages = system_pages()
    assert pages * os.sysconf("SC_PAGE_SIZE") >= 64 << 20


# Fills memory until its memory cgroup's OOM killer ends it.
HOG = r"""
import sys
with open("/proc/self/comm", "w") as f:
    f.write("pybcc-oomhog")
sys.stdout.write("ready\n"); sys.stdout.flush()
sys.stdin.readline()
chunks = []
while True:
    chunks.append(bytearray(1 << 20))
"""
LIMIT = 48 << 20


def memcg_oom(*args):
    """oomkill's output around an OOM kill in a memory cgroup of our own
    (only the test's process is in it)."""
    with memory_cgroup(LIMIT) as procs, process_in(procs, HOG) as hog:
        # a first start in a TCG VM (CO-RE against the guest's BTF) is slow
        with RunningTool("oomkill", *args, ready="Ctrl-C to stop.", timeout=300) as t:
            go(hog)
            assert hog.wait(60) == -signal.SIGKILL
            line = t.wait_for(lambda ln: "pybcc-oomhog" in ln, timeout=60)
    assert line is not None, t.stdout + t.stderr
    return hog.pid, line


def test_oomkill_memcg_oom_counts_the_cgroup_pages():
    """bcc prints the OOM's totalpages: for a memory cgroup OOM, its limit
    (no swap here: the cgroup may not swap, or the machine has none)."""
    pid, line = memcg_oom()
    m = re.fullmatch(r'\d\d:\d\d:\d\d Triggered by PID (\d+) \("([^"]*)"\), OOM kill of PID '
                     r'(\d+) \("pybcc-oomhog"\), (\d+) pages, loadavg: .+', line)
    assert m, line
    assert (int(m.group(1)), m.group(2), int(m.group(3))) == (pid, "pybcc-oomhog", pid), line
    assert int(m.group(4)) == LIMIT // os.sysconf("SC_PAGE_SIZE"), line


def test_oomkill_memcg_oom_json():
    pid, line = memcg_oom("--json")
    rec = json.loads(line)
    assert rec["tpid"] == pid and rec["tcomm"] == "pybcc-oomhog", rec
    assert rec["pages"] == LIMIT // os.sysconf("SC_PAGE_SIZE"), rec


@pytest.mark.vm
def test_oomkill_memcg_oom_kprobe():
    """The kprobe path: oom_control's totalpages, the cgroup's limit."""
    if not features.has_kprobes():
        pytest.skip("kprobes are not available on this kernel")
    test_oomkill_memcg_oom_counts_the_cgroup_pages()


def test_oomkill_starts_and_stops_cleanly():
    # Triggering a global OOM on a shared machine is not an option: check
    # that it attaches, says so, and ends on Ctrl-C and on --duration.
    with RunningTool("oomkill", ready="Ctrl-C to stop.") as t:
        assert t.lines == ["Tracing OOM kills... Ctrl-C to stop."]
    assert t.proc.returncode == 0 and not t.stderr, t.stderr
    r = run_tool("oomkill", "--duration", "0.5")
    assert r.returncode == 0 and r.stdout == "Tracing OOM kills... Ctrl-C to stop.\n", r.stderr


def test_oomkill_uses_tracepoint_without_kprobes():
    if features.has_kprobes():
        pytest.skip("this kernel has kprobes")
    tool, used = open_tool()
    with tool:
        assert used == "mark_victim"
        assert tool.mechanisms == ["tracepoint oom:mark_victim"]


@pytest.mark.vm
def test_oomkill_prefers_kprobe():
    if not features.has_kprobes():
        if os.environ.get("PYBCC_VMTEST"):
            pytest.fail("the VM kernel should have kprobes")
        pytest.skip("kprobes are not available on this kernel")
    tool, used = open_tool()
    with tool:
        assert used == "oom_kill_process", tool.mechanisms
