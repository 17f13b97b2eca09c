import os
import socket
import threading
import time

import pytest

from .test_tcpretrans import drop_all_input
from .toolrun import RunningTool, bad_input

pytestmark = pytest.mark.usefixtures("root")

SO_DETACH_FILTER = 27


def slow_connect(family=socket.AF_INET, host="127.0.0.1"):
    """A connect whose first SYN the listener drops (a socket filter), so
    the client's SYN retransmit, about a second later, gets through.
    Returns (server port, client port, seconds the connect took)."""
    srv = socket.socket(family)
    srv.bind((host, 0))
    srv.listen()
    port = srv.getsockname()[1]
    keep = drop_all_input(srv)
    threading.Timer(0.3, srv.setsockopt, (socket.SOL_SOCKET, SO_DETACH_FILTER, 0)).start()
    start = time.monotonic()
    c = socket.create_connection((host, port), timeout=10)
    took = time.monotonic() - start
    lport = c.getsockname()[1]
    c.close()
    srv.close()
    del keep
    return port, lport, took


def fast_connect():
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    port = srv.getsockname()[1]
    c = socket.create_connection(("127.0.0.1", port))
    lport = c.getsockname()[1]
    c.close()
    srv.close()
    return port, lport


def test_tcpconnlat_measures_a_retransmitted_syn():
    with RunningTool("tcpconnlat", "-L", "-p", os.getpid(), "500", ready="LAT(ms)") as t:
        assert t.header.split() == ["PID", "COMM", "IP", "SADDR", "LPORT", "DADDR", "DPORT",
                                       "LAT(ms)"]
        fport, _ = fast_connect()            # under 500 ms: not shown
        port, lport, took = slow_connect()
        line = t.wait_for(lambda ln: ln.split()[6:7] == [str(port)])
    assert line is not None, t.stdout + t.stderr
    f = line.split()
    assert f[0] == str(os.getpid()) and f[2:7] == ["4", "127.0.0.1", str(lport), "127.0.0.1",
                                                   str(port)], line
    # the tool's latency agrees with the time connect() took (a SYN retransmit: ~1 s)
    assert 0.8 <= took and abs(float(f[7]) / 1000 - took) < 0.1, (line, took)
    assert not any(ln.split()[6:7] == [str(fport)] for ln in t.lines), t.stdout
    assert t.proc.returncode == 0, t.stderr


def test_tcpconnlat_json_ipv6():
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    with RunningTool("tcpconnlat", "--json", "-t", "-6", "-p", os.getpid(),
                     ready="LAT(ms)") as t:
        fast_connect()                        # IPv4: filtered out by -6
        port, lport, took = slow_connect(socket.AF_INET6, "::1")
        rec = t.wait_for_record(lambda r: r["dport"] == port)
    assert rec is not None, t.stdout + t.stderr
    assert rec == {"time_s": rec["time_s"], "pid": os.getpid(), "comm": rec["comm"], "ip": 6,
                   "saddr": "::1", "daddr": "::1", "dport": port, "lat_ms": rec["lat_ms"]}, rec
    assert abs(rec["lat_ms"] / 1000 - took) < 0.1, (rec, took)
    assert all(r["ip"] == 6 for r in t.json_records()), t.stdout


@pytest.mark.parametrize("args", [["-1"], ["x"], ["-p", "x"], ["-4", "-6"]])
def test_tcpconnlat_bad_input(args):
    bad_input("tcpconnlat", *args)
