import os
import struct
import sys

import pytest

from pybcc.kernel import features
from pybcc.tools.capable import (cap_name, columns, open_tool, parse_args, plain_lines,
                                 tracepoint_usable)
from pybcc.output.table import Table
from pybcc.tools.lib.runtime import Tool

from .toolrun import RunningTool, bad_input, gated_child, release

pytestmark = pytest.mark.usefixtures("root")

EVENT = "<IIIiii16sii"    # capable.bpf.c's struct event

# Raising its own priority makes the kernel check CAP_SYS_NICE (23).
NICER = """
import os, sys
sys.stdin.readline()
os.nice(-1)
"""


def have_hook():
    return features.has_kprobes() or features.has_fentry() or tracepoint_usable()


def nice_check(extra=(), timeout=60):
    if not have_hook():
        pytest.skip("no kprobe, fentry or capability:cap_capable tracepoint here")
    with gated_child([sys.executable, "-c", NICER]) as child, \
            RunningTool("capable", "-x", "-p", child.pid, *extra, ready="INSETID",
                        timeout=timeout) as t:
        release(child, timeout)
        line = t.wait_for(lambda ln: "CAP_SYS_NICE" in ln, timeout=timeout)
    assert line is not None, t.stdout + t.stderr
    f = line.split()
    assert t.lines[0].split() == ["TIME", "UID", "PID", "TID", "COMM", "CAP", "NAME", "AUDIT",
                                  "INSETID"]
    assert f[1:7] == ["0", str(child.pid), str(child.pid), f[4], "23", "CAP_SYS_NICE"], line
    assert f[4].startswith("python"), line
    assert all(ln.split()[2] == str(child.pid) for ln in t.lines[1:] if ln[:1].isdigit())
    return f, t


def test_cap_names():
    assert cap_name(21) == "CAP_SYS_ADMIN" and cap_name(40) == "CAP_CHECKPOINT_RESTORE"
    assert cap_name(99) == "?"


def test_capable_sees_cap_sys_nice():
    f, t = nice_check()
    if not (features.has_kprobes() or features.has_fentry()):
        assert f[7:] == ["N/A", "N/A"], f          # the tracepoint cannot tell
        assert "does not say whether a check is audited" in t.stderr


def test_capable_without_any_hook_says_what_is_missing():
    if have_hook():
        pytest.skip("this kernel has a hook for capable")
    with pytest.raises(Exception) as ei:
        open_tool({})
    assert "kprobe or fentry on cap_capable()" in str(ei.value)


@pytest.mark.vm
def test_capable_kprobe_path():
    if not features.has_kprobes():
        if os.environ.get("PYBCC_VMTEST"):
            pytest.fail("the VM kernel should have kprobes")
        pytest.skip("kprobes are not available on this kernel")
    tool, used = open_tool({})
    tool.close()
    assert used == "cap_capable_kprobe"
    f, _ = nice_check(timeout=300)
    assert f[7:] == ["1", "0"], f                  # audited, not INSETID


def test_capable_json_has_the_check_fields():
    if not have_hook():
        pytest.skip("no kprobe, fentry or capability:cap_capable tracepoint here")
    with gated_child([sys.executable, "-c", NICER]) as child, \
            RunningTool("capable", "--json", "-x", "-K", "-p", child.pid, ready="INSETID") as t:
        release(child)
        rec = t.wait_for_record(lambda r: r["name"] == "CAP_SYS_NICE")
    assert rec is not None, t.stdout + t.stderr
    stack = rec.pop("kernel_stack")
    assert rec == {"time": rec["time"], "uid": 0, "pid": child.pid, "tid": child.pid,
                   "comm": "python3", "cap": 23, "name": "CAP_SYS_NICE",
                   "audit": rec["audit"], "insetid": rec["insetid"]}
    known = features.has_kprobes() or features.has_fentry()
    assert (rec["audit"], rec["insetid"]) == ((1, 0) if known else (None, None))
    assert stack and all(isinstance(f, str) and f for f in stack), stack
    assert all(ln.startswith("{") for ln in t.lines), t.stdout


@pytest.mark.parametrize("extra", [[], ["-x"]])
def test_capable_plain_lines_are_the_tables(extra):
    """The per-event path formats from the record's bytes: the same line as
    the table gives from the decoded record, a non-ASCII comm and AUDIT/INSETID
    both known and N/A included."""
    with Tool("capable") as tool:
        record = tool.record("event")
    table = Table(columns(parse_args(extra)))
    assert record.size == struct.calcsize(EVENT)
    on_event, write_batch = plain_lines(record, table, bool(extra))
    out = []
    table.file = type("Out", (), {"write": lambda self, text: out.append(text)})()
    comms = ["python3", "caf\u00e9\u00e9", "x" * 15, ""]
    datas = []
    for i, (audit, insetid) in enumerate([(1, 0), (-1, -1), (0, 1), (1, -1)]):
        e = {"tgid": 1000 + i, "pid": 2000 + i, "uid": i, "cap": [23, 21, 40, 99][i],
             "audit": audit, "insetid": insetid, "comm": comms[i].encode()[:15],
             "kernel_stack_id": -1, "user_stack_id": -1}
        datas.append(_pack(e))
    for data in datas:
        on_event(data)
    write_batch()
    expected = "".join(table.text(record.decode(d)) + "\n" for d in datas)
    # the TIME column is the clock when printed: compare the rest
    assert [ln[9:] for ln in "".join(out).splitlines()] == \
        [ln[9:] for ln in expected.splitlines()]
    assert "caf\u00e9\u00e9" in expected and "N/A" in expected


def _pack(e):
    """struct event's bytes (capable.bpf.c) from its fields."""
    return struct.pack(EVENT, e["tgid"], e["pid"], e["uid"], e["cap"], e["audit"],
                       e["insetid"], e["comm"], e["kernel_stack_id"], e["user_stack_id"])


@pytest.mark.parametrize("args", [["-p", "x"], ["-p", "999999999"], ["--duration", "x"]])
def test_capable_bad_input(args):
    bad_input("capable", *args)


def test_capable_missing_pinned_map():
    assert "no-such-map" in bad_input("capable", "--mntnsmap", "/sys/fs/bpf/no-such-map",
                                      code=1)
