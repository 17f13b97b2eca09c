import ctypes
import socket
import struct

import pytest

from .toolrun import RunningTool, run_tool

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


def test_tcpretrans_lossprobe_needs_kprobe_or_fentry():
    from pybcc.kernel import features
    if features.has_kprobes() or features.has_fentry():
        pytest.skip("this kernel can trace tail loss probes")
    r = run_tool("tcpretrans", "-l")
    assert r.returncode == 1
    assert "tcp_send_loss_probe" in r.stderr and "without -l" in r.stderr
