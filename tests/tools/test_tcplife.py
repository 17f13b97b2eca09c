import os
import socket
import threading
import time

import pytest

from .toolrun import RunningTool, bad_input

pytestmark = pytest.mark.usefixtures("root")


def test_tcplife_session_with_bytes_and_lifespan():
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    port = srv.getsockname()[1]

    def serve():
        conn, _ = srv.accept()
        while conn.recv(65536):
            pass
        conn.sendall(b"y" * 3000)
        conn.close()

    with RunningTool("tcplife", "-w", "-D", str(port), ready="RPORT") as t:
        assert t.header.split() == ["PID", "COMM", "IP", "LADDR", "LPORT", "RADDR",
                                       "RPORT", "TX_KB", "RX_KB", "MS"]
        th = threading.Thread(target=serve)
        th.start()
        c = socket.create_connection(("127.0.0.1", port))
        lport = c.getsockname()[1]
        c.sendall(b"x" * 200 * 1024)
        time.sleep(0.2)
        c.shutdown(socket.SHUT_WR)
        while c.recv(65536):
            pass
        c.close()
        th.join()
        line = t.wait_for(lambda ln: ln.split()[4:5] == [str(lport)])
    srv.close()
    assert line is not None, t.stdout + t.stderr
    f = line.split()
    assert f[0] == str(os.getpid()), line
    assert f[2:8] == ["4", "127.0.0.1", str(lport), "127.0.0.1", str(port), "200"], line
    assert f[8] == "2", line                 # 3000 bytes received
    assert 150 <= float(f[9]) < 10000, line  # it lived at least the 0.2 s sleep
    # the server's side of it is filtered out by -D (its remote port is ours)
    assert not any(ln.split()[4:5] == [str(port)] for ln in t.lines), t.stdout
    assert t.proc.returncode == 0, t.stderr


def test_tcplife_json_has_the_session_fields():
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    port = srv.getsockname()[1]
    with RunningTool("tcplife", "--json", "-t", "-D", str(port), ready="RPORT") as t:
        c = socket.create_connection(("127.0.0.1", port))
        conn, _ = srv.accept()
        lport = c.getsockname()[1]
        c.sendall(b"x" * 5000)
        conn.sendall(b"y" * 3 * 1024)
        conn.recv(65536)
        c.recv(65536)
        time.sleep(0.1)
        c.close()
        conn.close()
        rec = t.wait_for_record(lambda r: r["lport"] == lport)
    srv.close()
    assert rec is not None, t.stdout + t.stderr
    assert rec == {"time_s": 0.0, "pid": os.getpid(), "comm": rec["comm"], "ip": 4,
                   "laddr": "127.0.0.1", "lport": lport, "raddr": "127.0.0.1", "rport": port,
                   "tx_kb": 4, "rx_kb": 3, "ms": rec["ms"]}, rec
    assert 50 <= rec["ms"] < 10000
    assert all(ln.startswith("{") for ln in t.lines), t.stdout


@pytest.mark.parametrize("args", [["-L", "x"], ["-D", "0"], ["-p", "-1"], ["--duration", "x"],
                                  ["-4", "-6"]])
def test_tcplife_bad_input(args):
    bad_input("tcplife", *args)
