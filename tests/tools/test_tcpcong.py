import ctypes
import socket
import struct
import time

import pytest

from .toolrun import RunningTool, bad_input

pytestmark = pytest.mark.usefixtures("root")

SO_ATTACH_FILTER, SO_DETACH_FILTER = 26, 27


def listener():
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    return srv


def lossy_connection(srv=None, drop_seconds=1.0):
    """A loopback connection whose receiver drops every segment for a while
    (a classic BPF filter "ret #0"), so the sender times out into the loss
    state, then recovers to open once segments pass again. Returns the
    sender's (local port, remote port)."""
    srv = srv or listener()
    c = socket.create_connection(srv.getsockname())
    conn, _ = srv.accept()
    insn = ctypes.create_string_buffer(struct.pack("HBBI", 0x06, 0, 0, 0))   # BPF_RET|BPF_K 0
    conn.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER,
                    struct.pack("HxxxxxxQ", 1, ctypes.addressof(insn)))
    c.sendall(b"x" * 1000)
    time.sleep(drop_seconds)
    conn.setsockopt(socket.SOL_SOCKET, SO_DETACH_FILTER, 0)
    time.sleep(1.5)          # the backed-off retransmit gets through
    c.sendall(b"y" * 1000)
    assert len(conn.recv(4096)) > 0
    ports = c.getsockname()[1], srv.getsockname()[1]
    for s in (c, conn, srv):
        s.close()
    return ports


def test_tcpcong_loss_time_per_flow():
    with RunningTool("tcpcong", "-u", ready="Hit Ctrl-C") as t:
        lport, port = lossy_connection()
    assert t.proc.returncode == 0, t.stderr
    assert "LAddrPort            RAddrPort             Open_us Dod_us Rcov_us Cwr_us  Los_us " \
           "Chgs " in t.lines, t.stdout
    [row] = [ln.split() for ln in t.lines if ln.startswith(f"127.0.0.1/{lport} ")]
    assert row[1] == f"127.0.0.1/{port}", row
    open_us, dod, rcov, cwr, loss_us, changes = map(int, row[2:])
    # about 1.4 s in loss: from the first timeout (after 200 ms or more)
    # until the retransmit that backs off past the 1 s of drops
    assert 500_000 <= loss_us <= 3_000_000 and changes >= 1, row
    assert dod == rcov == 0, row


def test_tcpcong_json_and_histograms():
    srv = listener()
    port = srv.getsockname()[1]
    with RunningTool("tcpcong", "--json", "-R", f"{port}-{port}", ready="Hit Ctrl-C") as t:
        lport, _ = lossy_connection(srv)
        other, _ = lossy_connection()       # another remote port: left out by -R
    [report] = t.json_records()
    assert [r["laddr_port"] for r in report["rows"]] == [f"127.0.0.1/{lport}"], report
    [r] = report["rows"]
    assert r["raddr_port"] == f"127.0.0.1/{port}" and r["ip"] == 4, r
    assert 500 <= r["loss_ms"] <= 3000 and r["changes"] >= 1, r

    with RunningTool("tcpcong", "-d", "-T", ready="Hit Ctrl-C") as t:
        lossy_connection()
    assert t.proc.returncode == 0, t.stderr
    text = t.stdout
    assert "tcp_congest_state = loss" in text and "msecs" in text, text
    loss = text.split("tcp_congest_state = loss")[1].split("tcp_congest_state")[0]
    # the loss lasted ~1.4 s: counted in a bucket from 256 ms up
    rows = [ln.split() for ln in loss.splitlines() if "->" in ln]
    assert any(int(r[0]) >= 256 and int(r[4]) >= 1 for r in rows), loss


@pytest.mark.parametrize("args", [["-L", "x"], ["-R", "1-2-3"], ["-L", "70000"], ["0"],
                                  ["1", "x"]])
def test_tcpcong_bad_input(args):
    bad_input("tcpcong", *args)


@pytest.mark.vm
@pytest.mark.parametrize("kinds", [("fexit",), ("kprobe", "kretprobe")])
def test_tcpcong_probe_paths(kinds):
    """The paths of kernels before the tracepoint (6.0): the state read when
    the functions that change it return, forced even where the tracepoint exists."""
    import os
    from pybcc.kernel import features
    from pybcc.tools.lib.runtime import Tool
    from pybcc.tools.tcpcong import CHANGERS
    if not (features.has_fentry() if kinds == ("fexit",) else features.has_kprobes()):
        if os.environ.get("PYBCC_VMTEST"):
            pytest.fail(f"the VM kernel should have {kinds[0]}")
        pytest.skip(f"no {kinds[0]} on this kernel")
    with Tool("tcpcong", {"targ_ms": True}) as tool:
        for fn in CHANGERS:
            try:
                for kind in kinds:
                    tool.attach(f"{fn}_{kind}")
            except Exception:
                assert fn != "tcp_enter_loss"     # global: never inlined
        lport, port = lossy_connection()
        flows = {(k.lport, k.dport): v for k, v in tool.maps["flows"].items()}
    f = flows[(lport, port)]
    assert f.changes >= 1 and 500_000 <= f.us[4] <= 3_000_000, (f, tool.mechanisms)
