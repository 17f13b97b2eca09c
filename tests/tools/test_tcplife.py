import os
import socket
import threading
import time

import pytest

from .toolrun import RunningTool

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
