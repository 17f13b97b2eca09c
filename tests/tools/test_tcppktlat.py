import os
import socket
import threading
import time

import pytest

from .toolrun import RunningTool, bad_input

pytestmark = pytest.mark.usefixtures("root")


def late_read(srv, wait=0.3):
    """A client sends 1000 bytes; this thread reads them ``wait`` seconds later.
    Returns the client's port."""
    c = socket.create_connection(srv.getsockname()[:2])
    a, _ = srv.accept()
    c.sendall(b"x" * 1000)
    time.sleep(wait)
    assert a.recv(4096)
    port = c.getsockname()[1]
    a.close()
    c.close()
    return port


def listener(family=socket.AF_INET, host="127.0.0.1"):
    srv = socket.socket(family)
    srv.bind((host, 0))
    srv.listen()
    return srv, srv.getsockname()[1]


def test_tcppktlat_shows_the_wait_before_the_read():
    srv, port = listener()
    with RunningTool("tcppktlat", "-T", "-l", port, ready="RPORT") as t:
        assert t.header.split() == ["TIME(s)", "PID", "TID", "COMM", "LADDR", "LPORT", "RADDR",
                                    "RPORT", "MS"]
        rport = late_read(srv)
        line = t.wait_for(lambda ln: ln.split()[-2:-1] == [str(rport)])
    assert line is not None, t.stdout + t.stderr
    comm = open("/proc/self/comm").read().strip()
    f = line.split()
    assert f[1:-1] == [str(os.getpid()), str(threading.get_native_id()), comm, "127.0.0.1",
                       str(port), "127.0.0.1", str(rport)], line
    assert 300 <= float(f[-1]) < 2000, line
    # only the local port asked for
    assert all(ln.split()[5] == str(port) for ln in t.lines[1:]), t.stdout


def test_tcppktlat_json_ipv6_min_and_tid():
    srv, port = listener(socket.AF_INET6, "::1")
    with RunningTool("tcppktlat", "--json", "-w", "-t", threading.get_native_id(), "500000",
                     ready="RPORT") as t:
        late_read(srv, 0)               # well under the 500 ms asked for: not shown
        rport = late_read(srv, 0.8)
        rec = t.wait_for_record(lambda r: r["rport"] == rport)
    assert rec is not None, t.stdout + t.stderr
    assert rec == {"pid": os.getpid(), "tid": threading.get_native_id(),
                   "comm": open("/proc/self/comm").read().strip(), "laddr": "::1",
                   "lport": port, "raddr": "::1", "rport": rport, "ms": rec["ms"]}, rec
    assert 800 <= rec["ms"] < 3000
    assert len(t.json_records()) == 1, t.stdout


@pytest.mark.parametrize("args", [["-l", "0"], ["-r", "x"], ["-t", "-1"], ["0"], ["1", "2"]])
def test_tcppktlat_bad_input(args):
    bad_input("tcppktlat", *args)


def test_tcppktlat_raw_tracepoint_twins():
    """Kernels without tp_btf: the raw_tp programs give the same events."""
    from pybcc.tools.lib.runtime import Tool
    srv, port = listener()
    events = []
    with Tool("tcppktlat", {"targ_lport": port}, events=True) as tool:
        for hook in ("probe", "space_adjust", "destroy"):
            tool.attach(f"{hook}_raw")
        decode = tool.record("event").decode
        tool.open_events(lambda data: events.append(decode(data)))
        rport = late_read(srv, 0.2)
        tool.poll(500)
    mine = [e for e in events if e.dport == rport]
    assert len(mine) == 1 and mine[0].lport == port and mine[0].pid == os.getpid(), events
    assert 200_000 <= mine[0].delta_us < 2_000_000, mine
