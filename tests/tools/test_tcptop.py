import os
import socket
import threading
import time

import pytest

from .toolrun import RunningTool, bad_input

pytestmark = pytest.mark.usefixtures("root")

SIZE = 300 * 1024


def transfer(host="127.0.0.1", family=socket.AF_INET):
    """SIZE bytes from a client to a server (both in this process).
    Returns (server port, client port)."""
    srv = socket.socket(family)
    srv.bind((host, 0))
    srv.listen()
    port = srv.getsockname()[1]
    got = []

    def serve():
        conn, _ = srv.accept()
        n = 0
        while data := conn.recv(65536):
            n += len(data)
        got.append(n)
        conn.close()
    th = threading.Thread(target=serve)
    th.start()
    c = socket.create_connection((host, port))
    lport = c.getsockname()[1]
    c.sendall(b"x" * SIZE)
    c.close()
    th.join()
    srv.close()
    assert got == [SIZE]
    return port, lport


def test_tcptop_text_shows_both_ends():
    with RunningTool("tcptop", "-C", "-p", os.getpid(), "1", ready="Tracing...") as t:
        port, lport = transfer()
        client = t.wait_for(lambda ln: f"127.0.0.1:{lport} " in ln and ln.startswith(str(os.getpid())))
        server = t.wait_for(lambda ln: f"127.0.0.1:{port} " in ln and f":{lport}" in ln
                            and ln.split()[2] == f"127.0.0.1:{port}")
    assert client is not None and server is not None, t.stdout
    assert "PID     COMM         LADDR                 RADDR                  RX_KB  TX_KB" in t.lines
    assert any("loadavg:" in ln for ln in t.lines)
    f = client.split()
    assert f[2:4] == [f"127.0.0.1:{lport}", f"127.0.0.1:{port}"], client
    # all 300 KB in one interval, as a rule; at least a good part of it
    assert int(f[5]) > 0 and int(f[4]) == 0, client
    assert int(server.split()[4]) > 0 and int(server.split()[5]) == 0, server
    assert t.proc.returncode == 0, t.stderr


def test_tcptop_json_exact_bytes_ipv6():
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    with RunningTool("tcptop", "--json", "-6", "-p", os.getpid(), "1", ready="Tracing...") as t:
        transfer()                               # IPv4: filtered out by -6
        port, lport = transfer("::1", socket.AF_INET6)
        time.sleep(2.2)
    rows = [r for rec in t.json_records() for r in rec["rows"]]
    assert all(r["ip"] == 6 for r in rows), rows
    sent = sum(r["tx_bytes"] for r in rows if r["laddr"] == f"::1:{lport}")
    received = sum(r["rx_bytes"] for r in rows if r["laddr"] == f"::1:{port}"
                   and r["raddr"] == f"::1:{lport}")
    assert sent == SIZE and received == SIZE, rows
    assert {r["pid"] for r in rows} == {os.getpid()}
    r = next(r for r in rows if r["laddr"] == f"::1:{lport}")
    assert set(r) == {"pid", "comm", "laddr", "raddr", "rx_kb", "tx_kb", "ip", "rx_bytes",
                      "tx_bytes"}, r


@pytest.mark.parametrize("args", [["0"], ["1", "x"], ["-p", "x"], ["-4", "-6"]])
def test_tcptop_bad_input(args):
    bad_input("tcptop", *args)
