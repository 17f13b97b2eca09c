import errno
import os
import socket
import time

import pytest

from .toolrun import RunningTool, bad_input

pytestmark = pytest.mark.usefixtures("root")

IP_FREEBIND = 15


@pytest.mark.vm      # also on stock kernels: inet_sock option bitfields before 6.6
def test_bindsnoop_binds_with_options_and_errors():
    with RunningTool("bindsnoop", "-E", "-U", "-p", os.getpid(), ready="OPTS") as t:
        assert t.header.split() == ["UID", "RC", "PID", "COMM", "PROT", "ADDR", "PORT", "OPTS",
                                       "IF"]
        tcp = socket.socket()
        tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        tcp.bind(("127.0.0.1", 0))                 # the kernel picks the port
        tcp_port = tcp.getsockname()[1]
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.setsockopt(socket.SOL_IP, IP_FREEBIND, 1)
        udp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        udp.bind(("127.0.0.1", 0))
        udp_port = udp.getsockname()[1]
        taken = socket.socket()
        with pytest.raises(OSError) as err:
            taken.bind(("127.0.0.1", tcp_port))    # already bound: EADDRINUSE
        assert err.value.errno == errno.EADDRINUSE
        t.wait_for(lambda ln: ln.split()[1:2] == [str(-errno.EADDRINUSE)])
        for s in (tcp, udp, taken):
            s.close()
    rows = [ln.split() for ln in t.lines[t.lines.index(t.header) + 1:]]
    me = str(os.getpid())
    assert ["0", "0", me, "python3", "TCP", "127.0.0.1", str(tcp_port), "...R.", "0"] in rows, \
        t.stdout
    assert ["0", "0", me, "python3", "UDP", "127.0.0.1", str(udp_port), "F...r", "0"] in rows, \
        t.stdout
    assert ["0", str(-errno.EADDRINUSE), me, "python3", "TCP", "127.0.0.1", str(tcp_port),
            ".....", "0"] in rows, t.stdout
    assert all(r[2] == me for r in rows), t.stdout
    assert t.proc.returncode == 0, t.stderr


def test_bindsnoop_json_ipv6_port_filter_and_count():
    probe = socket.socket(socket.AF_INET6)
    probe.bind(("::1", 0))
    port = probe.getsockname()[1]
    probe.close()
    with RunningTool("bindsnoop", "--json", "-w", "-t", "-P", port, ready="OPTS") as t:
        other = socket.socket(socket.AF_INET6)
        other.bind(("::1", 0))                     # another port: filtered out
        s = socket.socket(socket.AF_INET6)
        s.bind(("::1", port))
        rec = t.wait_for_record(lambda r: r["port"] == port)
        other.close()
        s.close()
    assert rec == {"time_s": rec["time_s"], "pid": os.getpid(), "comm": "python3", "prot": "TCP",
                   "addr": "::1", "port": port, "opts": ".....", "if": 0}, rec
    assert all(r["port"] == port for r in t.json_records()), t.stdout

    with RunningTool("bindsnoop", "--count", "--json", "-P", port, ready="Hit Ctrl-C") as t:
        for _ in range(3):
            s = socket.socket(socket.AF_INET6)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("::1", port))
            s.close()
        time.sleep(0.5)
    [result] = t.json_records()
    assert result == {"rows": [{"laddr": "::1", "lport": port, "binds": 3}]}, result


@pytest.mark.parametrize("args", [["-P", "x"], ["-u", "-1"], ["-p", "x"], ["--duration", "0"]])
def test_bindsnoop_bad_input(args):
    bad_input("bindsnoop", *args)
