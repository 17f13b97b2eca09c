import os

import pytest

from pybcc.kernel import features
from pybcc.tools.oomkill import Event, format_event, open_tool, system_pages

from .toolrun import RunningTool, run_tool

pytestmark = pytest.mark.usefixtures("root")


def test_oomkill_line_format():
    e = Event(fpid=123, tpid=456, pages=2048, fcomm=b"stress", tcomm=b"hog")
    line = format_event(e, "0.50 0.40 0.30 1/100 4242", when="12:34:56")
    assert line == ('12:34:56 Triggered by PID 123 ("stress"), OOM kill of PID 456 ("hog"), '
                    '2048 pages, loadavg: 0.50 0.40 0.30 1/100 4242')


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
