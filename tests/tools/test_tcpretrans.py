import ctypes
import socket
import struct
import time

import pytest

from .toolrun import RunningTool, bad_input, run_tool

pytestmark = pytest.mark.usefixtures("root")

SO_ATTACH_FILTER = 26


def drop_all_input(sock):
    """A classic BPF socket filter "ret #0": the kernel drops every segment
    for this socket, so its peer gets no ACK and must retransmit."""
    insn = ctypes.create_string_buffer(struct.pack("HBBI", 0x06, 0, 0, 0))   # BPF_RET|BPF_K, 0
    prog = struct.pack("HxxxxxxQ", 1, ctypes.addressof(insn))
    sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, prog)
    return insn


def test_tcpretrans_shows_loopback_retransmit():
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    port = srv.getsockname()[1]
    with RunningTool("tcpretrans", "-s", ready="STATE") as t:
        assert t.header.split() == ["TIME", "PID", "IP", "LADDR:LPORT", "T>", "RADDR:RPORT",
                                       "STATE", "SEQ"]
        c = socket.create_connection(("127.0.0.1", port))
        conn, _ = srv.accept()
        keep = drop_all_input(conn)
        lport = c.getsockname()[1]
        c.sendall(b"lost")
        line = t.wait_for(lambda ln: f"127.0.0.1:{lport}" in ln and f"127.0.0.1:{port}" in ln,
                          timeout=10)
        c.close()
        conn.close()
        del keep
    srv.close()
    assert line is not None, t.stdout + t.stderr
    f = line.split()
    assert f[2:] [:5] == ["4", f"127.0.0.1:{lport}", "R>", f"127.0.0.1:{port}", "ESTABLISHED"], line
    assert int(f[7]) > 0, line
    assert t.proc.returncode == 0, (t.stdout, t.stderr)


def retransmit_on_loopback(*tool_args, ready="STATE"):
    """A loopback connection whose peer drops everything: returns the tool
    (stopped) and the client's (local, remote) ports."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    port = srv.getsockname()[1]
    with RunningTool("tcpretrans", *tool_args, ready=ready) as t:
        c = socket.create_connection(("127.0.0.1", port))
        conn, _ = srv.accept()
        keep = drop_all_input(conn)
        lport = c.getsockname()[1]
        c.sendall(b"lost")
        if "-c" in tool_args:      # counts are printed at the end: give it time
            time.sleep(1.5)
        else:
            t.wait_for(lambda ln: f"{lport}" in ln and f"{port}" in ln, timeout=10)
        c.close()
        conn.close()
        del keep
    srv.close()
    return t, lport, port


def test_tcpretrans_json_has_the_retransmit_fields():
    t, lport, port = retransmit_on_loopback("--json", "-s")
    recs = [r for r in t.json_records() if r["laddr_lport"] == f"127.0.0.1:{lport}"]
    assert recs, t.stdout + t.stderr
    r = recs[0]
    assert r == {"time": r["time"], "pid": r["pid"], "ip": 4, "laddr_lport": f"127.0.0.1:{lport}",
                 "type": "R", "raddr_rport": f"127.0.0.1:{port}", "state": "ESTABLISHED",
                 "seq": r["seq"]}, r
    assert r["seq"] > 0
    assert all(ln.startswith("{") for ln in t.lines), t.stdout


def test_tcpretrans_count_json():
    t, lport, port = retransmit_on_loopback("--json", "-c", ready="Hit Ctrl-C")
    assert t.proc.returncode == 0, t.stderr
    [result] = t.json_records()
    mine = [r for r in result["rows"] if r["laddr_lport"] == f"[127.0.0.1]#{lport}"]
    assert len(mine) == 1 and mine[0]["raddr_rport"] == f"[127.0.0.1]#{port}", result
    assert mine[0]["retransmits"] >= 1


@pytest.mark.parametrize("args", [["-4", "-6"], ["--duration", "0"], ["-x"]])
def test_tcpretrans_bad_input(args):
    bad_input("tcpretrans", *args)


def test_tcpretrans_lossprobe_needs_kprobe_or_fentry():
    from pybcc.kernel import features
    if features.has_kprobes() or features.has_fentry():
        pytest.skip("this kernel can trace tail loss probes")
    r = run_tool("tcpretrans", "-l")
    assert r.returncode == 1
    assert "tcp_send_loss_probe" in r.stderr and "without -l" in r.stderr


@pytest.mark.vm
def test_tcpretrans_lossprobe_on_stock_kernel():
    """-l: a tail loss probe (kprobe or fentry on tcp_send_loss_probe) fires
    before the retransmit timeout when the peer acknowledges nothing."""
    import os
    from pybcc.kernel import features
    if not (features.has_kprobes() or features.has_fentry()):
        if os.environ.get("PYBCC_VMTEST"):
            pytest.fail("the VM kernel should have kprobes")
        pytest.skip("no kprobes or fentry on this kernel")
    t, lport, port = retransmit_on_loopback("-l", ready="STATE")
    lines = [ln.split() for ln in t.lines if f"127.0.0.1:{lport}" in ln]
    assert ["4", f"127.0.0.1:{lport}", "L>", f"127.0.0.1:{port}", "ESTABLISHED"] in \
        [f[2:7] for f in lines], t.stdout + t.stderr
