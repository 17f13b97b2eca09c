import os
from types import SimpleNamespace

import pytest

from pybcc.kernel import features
from pybcc.tools.oomkill import COLUMNS, format_event, kill_row, open_tool, system_pages

from pybcc.output.table import Table

from .toolrun import RunningTool, bad_input, run_tool

pytestmark = pytest.mark.usefixtures("root")


def test_oomkill_line_format():
    # the record's fields as the BTF decoder gives them (char[] as bytes)
    e = SimpleNamespace(fpid=123, tpid=456, pages=2048, fcomm=b"stress", tcomm=b"hog")
    line = format_event(e, "0.50 0.40 0.30 1/100 4242", when="12:34:56")
    assert line == ('12:34:56 Triggered by PID 123 ("stress"), OOM kill of PID 456 ("hog"), '
                    '2048 pages, loadavg: 0.50 0.40 0.30 1/100 4242')


def test_oomkill_json_row():
    e = SimpleNamespace(fpid=123, tpid=os.getpid(), pages=0, fcomm=b"stress", tcomm=b"")
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


def test_oomkill_starts_and_stops_cleanly():
    # Triggering the OOM killer on a shared machine is not an option: check
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
