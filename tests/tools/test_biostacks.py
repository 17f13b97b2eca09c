import re
import signal
import threading

import pytest

from pybcc.kernel import features

from .badinput import assert_one_line_error
from .loopdev import direct_io, loop_device
from .toolrun import RunningTool, run_tool

pytestmark = pytest.mark.usefixtures("root")

HIST_ROW = re.compile(r"^\s+(\d+) -> (\d+)\s+: (\d+)\s+\|")
WRITES = 50


def trace_direct_writes(*args):
    """biostacks -d LOOP around WRITES O_DIRECT writes by this thread to a
    loop device of our own; returns (output, our tid)."""
    with loop_device(16) as (dev, _):
        with RunningTool("biostacks", "-d", dev, *args, ready="Tracing block I/O",
                         timeout=300) as t:
            direct_io(dev, range(WRITES))
            t.stop(signal.SIGINT)
    assert t.proc.returncode == 0, t.stderr
    return t, dev, threading.get_native_id()


def test_biostacks_histogram_per_stack():
    t, dev, tid = trace_direct_writes()
    assert t.lines[0] == "Tracing block I/O with init stacks. Hit Ctrl-C to end."
    # sections: "COMM PID DISK", the frames, the histogram, a blank line
    sections, cur = [], None
    for ln in t.lines[1:]:
        if cur is None:
            comm, pid, disk = ln[:14].strip(), int(ln[15:21]), ln[22:].strip()
            cur = {"comm": comm, "pid": pid, "disk": disk, "frames": [], "count": 0}
        elif not ln:
            sections.append(cur)
            cur = None
        elif HIST_ROW.match(ln):
            cur["count"] += int(HIST_ROW.match(ln).group(3))
        elif "usecs" not in ln:
            cur["frames"].append(ln)
    ours = [s for s in sections if s["pid"] == tid]
    assert ours and all(s["disk"] == dev for s in ours), t.stdout
    assert sum(s["count"] for s in ours) == WRITES, t.stdout
    # the stack that accounted the request: a direct write to a block device
    frames = ours[0]["frames"]
    assert any("submit_bio" in f for f in frames), frames
    assert any("blkdev" in f for f in frames), frames
    assert not any(f.startswith(("bpf_", "__bpf_trace")) for f in frames), frames


def test_biostacks_json_milliseconds():
    t, dev, tid = trace_direct_writes("-m", "--json")
    (rec,) = t.json_records()
    ours = [s for s in rec["stacks"] if s["pid"] == tid]
    assert ours and all(s["disk"] == dev and s["unit"] == "msecs" for s in ours), rec
    assert sum(b["count"] for s in ours for b in s["buckets"]) == WRITES
    assert any("submit_bio" in f for s in ours for f in s["frames"])


def test_biostacks_duration_ends_it():
    r = run_tool("biostacks", "1")
    assert r.returncode == 0 and r.stdout.startswith("Tracing block I/O"), r.stderr


@pytest.mark.vm
def test_biostacks_accounting_functions():
    """Before Linux 6.5 there are no block_io tracepoints: fentry/kprobes on
    blk_account_io_start/done."""
    if not features.has_kprobes():
        pytest.skip("no kprobes on this kernel")
    test_biostacks_histogram_per_stack()


@pytest.mark.parametrize("args, message", [(["-d", "nosuchdisk"], "no such disk"),
                                           (["0"], "must be positive"), (["1", "2"], "error:")])
def test_biostacks_bad_input(args, message):
    assert_one_line_error(run_tool("biostacks", *args), message)


def test_biostacks_stops_on_sigterm():
    with RunningTool("biostacks", ready="Tracing block I/O") as t:
        t.stop(signal.SIGTERM)
    assert t.proc.returncode == 0 and "Traceback" not in t.stderr


def test_biostacks_request_tracepoints_fallback():
    """The programs taken where blk_account_io_start is inlined and there
    are no block_io tracepoints (6.1): request insert/issue to completion."""
    import os

    from pybcc.tools.lib.runtime import Tool
    with loop_device(16) as (dev, _):
        st = os.stat(f"/dev/{dev}")
        with Tool("biostacks", {"filter_dev": True, "targ_major": os.major(st.st_rdev),
                                "targ_minor": os.minor(st.st_rdev)}) as tool:
            for prog in ("rq_insert", "rq_issue", "rq_complete"):
                tool.attach_first(prog + "_btf", prog + "_raw")
            direct_io(dev, range(WRITES))
            ours = [(k, n) for k, n in tool.maps["hists"].items()
                    if k.who.pid == threading.get_native_id()]
    assert sum(n for _, n in ours) == WRITES, ours
