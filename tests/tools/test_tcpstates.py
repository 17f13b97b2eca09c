import os
import socket
import time

import pytest

from .toolrun import RunningTool, bad_input

pytestmark = pytest.mark.usefixtures("root")


def loopback_session(hold=0.1):
    """A loopback connection that lives ``hold`` seconds, closed by the
    client first. Returns (server port, client port)."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    port = srv.getsockname()[1]
    c = socket.create_connection(("127.0.0.1", port))
    conn, _ = srv.accept()
    lport = c.getsockname()[1]
    time.sleep(hold)
    c.close()
    time.sleep(0.05)
    conn.close()
    srv.close()
    return port, lport


def test_tcpstates_client_walks_through_its_states():
    with RunningTool("tcpstates", "-w", ready="NEWSTATE") as t:
        assert t.header.split() == ["SKADDR", "C-PID", "C-COMM", "IP", "LADDR", "LPORT", "RADDR",
                                       "RPORT", "OLDSTATE", "->", "NEWSTATE", "MS"]
        port, lport = loopback_session(hold=0.2)
        t.wait_for(lambda ln: ln.split()[5:6] == [str(lport)] and "-> CLOSE " in ln + " ")
    mine = [ln.split() for ln in t.lines[1:] if ln.split()[7:8] == [str(port)]]
    client = [f for f in mine if f[5] in (str(lport), "0")]
    assert [(f[8], f[10]) for f in client] == [
        ("CLOSE", "SYN_SENT"), ("SYN_SENT", "ESTABLISHED"), ("ESTABLISHED", "FIN_WAIT1"),
        ("FIN_WAIT1", "FIN_WAIT2"), ("FIN_WAIT2", "CLOSE")], t.stdout
    # one socket; the connect and the close ran in this process
    assert len({f[0] for f in client}) == 1
    assert client[0][1] == str(os.getpid()) and client[2][1] == str(os.getpid())
    assert client[0][3:5] == ["4", "127.0.0.1"] and client[0][6] == "127.0.0.1"
    # ESTABLISHED lasted the 0.2 s hold
    assert 190 <= float(client[2][11]) < 5000, client[2]
    # the server side: LISTEN -> SYN_RECV -> ESTABLISHED ... -> CLOSE, on its own socket
    server = [f for f in t.lines[1:] if f.split()[5:6] == [str(port)] and f.split()[7:8] == [str(lport)]]
    assert [f.split()[8] for f in server][:2] == ["LISTEN", "SYN_RECV"], t.stdout
    assert server[-1].split()[10] == "CLOSE"
    assert t.proc.returncode == 0, t.stderr


def test_tcpstates_json_and_port_filter():
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    port = srv.getsockname()[1]
    srv.close()
    with RunningTool("tcpstates", "--json", "-t", "-L", port, ready="NEWSTATE") as t:
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        s.listen()
        c = socket.create_connection(("127.0.0.1", port))
        conn, _ = s.accept()
        lport = c.getsockname()[1]
        time.sleep(0.1)
        conn.close()
        c.close()
        s.close()
        rec = t.wait_for_record(lambda r: r["newstate"] == "CLOSE" and r["rport"] == lport)
    assert rec is not None, t.stdout + t.stderr
    recs = t.json_records()
    # -L keeps the server's side only (its local port), the client's is filtered out
    assert recs and all(r["lport"] == port for r in recs), recs
    assert [r["newstate"] for r in recs if r["rport"] == lport][:3] == [
        "SYN_RECV", "ESTABLISHED", "FIN_WAIT1"], recs
    est = next(r for r in recs if r["oldstate"] == "ESTABLISHED" and r["rport"] == lport)
    assert set(est) == {"time_s", "skaddr", "c_pid", "c_comm", "ip", "laddr", "lport", "raddr",
                        "rport", "oldstate", "newstate", "ms"}, est
    assert est["ip"] == 4 and est["laddr"] == "127.0.0.1" and est["c_pid"] == os.getpid()
    assert 90 <= est["ms"] < 5000 and int(est["skaddr"], 16) > 0
    assert all(ln.startswith("{") for ln in t.lines), t.stdout


@pytest.mark.parametrize("args", [["-L", "x"], ["-D", "70000"], ["-4", "-6"], ["--duration", "0"]])
def test_tcpstates_bad_input(args):
    bad_input("tcpstates", *args)


def test_tcpstates_journal_needs_systemd_module():
    try:
        import systemd.journal  # noqa: F401
        pytest.skip("python3-systemd is installed")
    except ImportError:
        pass
    from .toolrun import run_tool
    r = run_tool("tcpstates", "-Y")
    assert r.returncode == 1 and "systemd.journal" in r.stderr and "Traceback" not in r.stderr
