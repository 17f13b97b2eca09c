import socket
import subprocess
import sys

import pytest

from .toolrun import RunningTool, bad_input

pytestmark = pytest.mark.usefixtures("root")

# A server in its own process: it accepts one connection (with accept4, or
# with plain accept() through libc when asked) and prints its pid and port.
SERVER = r"""
import ctypes, os, socket, sys
fam = socket.AF_INET6 if sys.argv[1] == "6" else socket.AF_INET
s = socket.socket(fam)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("::1" if fam == socket.AF_INET6 else "127.0.0.1", int(sys.argv[3])))
s.listen()
print(os.getpid(), s.getsockname()[1], flush=True)
if sys.argv[2] == "accept":
    fd = ctypes.CDLL(None, use_errno=True).accept(s.fileno(), None, None)
    assert fd >= 0
    os.close(fd)
else:
    c, _ = s.accept()
    c.close()
"""


def accept_one(family="4", call="accept4", port=0):
    """Returns (server pid, server port, client port) after one accepted connection."""
    srv = subprocess.Popen([sys.executable, "-c", SERVER, family, call, str(port)], stdout=subprocess.PIPE,
                           text=True)
    pid, port = map(int, srv.stdout.readline().split())
    host = "::1" if family == "6" else "127.0.0.1"
    c = socket.create_connection((host, port))
    lport = c.getsockname()[1]
    srv.wait(10)
    c.close()
    return pid, port, lport


def test_tcpaccept_shows_the_accepting_process():
    with RunningTool("tcpaccept", "-t", ready="LPORT") as t:
        assert t.header.split() == ["TIME(s)", "PID", "COMM", "IP", "RADDR", "RPORT", "LADDR",
                                       "LPORT"]
        pid, port, lport = accept_one()
        pid2, port2, lport2 = accept_one(call="accept")
        line = t.wait_for(lambda ln: ln.split()[-1:] == [str(port)])
        line2 = t.wait_for(lambda ln: ln.split()[-1:] == [str(port2)])
    assert line is not None and line2 is not None, t.stdout + t.stderr
    assert line.split()[1:] == [str(pid), "python3", "4", "127.0.0.1", str(lport), "127.0.0.1",
                                str(port)], line
    assert line2.split()[1:] == [str(pid2), "python3", "4", "127.0.0.1", str(lport2),
                                 "127.0.0.1", str(port2)], line2
    assert t.proc.returncode == 0, t.stderr


def test_tcpaccept_json_ipv6_and_filters():
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    probe = socket.socket(socket.AF_INET6)
    probe.bind(("::1", 0))
    port = probe.getsockname()[1]       # a free port, traced alone
    probe.close()
    with RunningTool("tcpaccept", "--json", "-6", "-P", f"1,{port}", ready="LPORT") as t:
        other = accept_one("6")          # another port: filtered out by -P
        pid, _, lport = accept_one("6", port=port)
        v4 = accept_one("4")             # filtered out by -6
        rec = t.wait_for_record(lambda r: r["rport"] == lport)
    recs = t.json_records()
    assert all(r["lport"] in (1, port) for r in recs), recs
    assert not any(r["rport"] in (other[2], v4[2]) for r in recs), recs
    assert rec == {"pid": pid, "comm": "python3", "ip": 6, "raddr": "::1", "rport": lport,
                   "laddr": "::1", "lport": port}, rec

    with RunningTool("tcpaccept", "--json", "-p", "1", ready="LPORT") as t:
        accept_one()
    assert not [r for r in t.json_records() if r["pid"] != 1], t.stdout


@pytest.mark.parametrize("args", [["-P", "x"], ["-p", "0x"], ["-4", "-6"], ["--duration", "-1"],
                                  ["--cgroupmap", "/nonexistent/map"]])
def test_tcpaccept_bad_input(args):
    bad_input("tcpaccept", *args, code=1 if args[0] == "--cgroupmap" else 2)
