import os

import pytest

from .netns import netns_fixture, run_python  # noqa: F401 (the netns fixture)
from .toolrun import RunningTool, bad_input

pytestmark = pytest.mark.usefixtures("root")

# listen() on a TCP socket of the family asked for, with backlog 7, and on a
# unix socket (not shown); prints pid, port and network namespace inode.
LISTENER = r"""
import os, socket, sys
fam = socket.AF_INET6 if sys.argv[1] == "6" else socket.AF_INET
s = socket.socket(fam)
s.bind(("::1" if fam == socket.AF_INET6 else "127.0.0.1", 0))
s.listen(7)
u = socket.socket(socket.AF_UNIX)
u.bind("")
u.listen(2)
print(os.getpid(), s.getsockname()[1], os.stat("/proc/self/ns/net").st_ino, flush=True)
"""


def listen_once(family="4", netns=None):
    return run_python(LISTENER, family, netns=netns)



def test_solisten_shows_tcp_listens():
    with RunningTool("solisten", ready="ADDR") as t:
        assert t.header.split() == ["PID", "COMM", "PROTO", "BACKLOG", "PORT", "ADDR"]
        pid4, port4, _ = listen_once("4")
        pid6, port6, _ = listen_once("6")
        line6 = t.wait_for(lambda ln: ln.split()[:1] == [str(pid6)])
    mine = [ln.split() for ln in t.lines if ln.split()[:1] in ([str(pid4)], [str(pid6)])]
    assert mine == [[str(pid4), "python3", "TCPv4", "7", str(port4), "127.0.0.1"],
                    [str(pid6), "python3", "TCPv6", "7", str(port6), "::1"]], t.stdout
    assert line6 is not None
    assert t.stop() == 0, t.stderr


def test_solisten_json_netns_and_pid_filter(netns):
    name, ino = netns
    with RunningTool("solisten", "--json", "--show-netns", "-n", ino, ready="ADDR") as t:
        outside = listen_once("4")
        pid, port, ns = listen_once("4", netns=name)
        rec = t.wait_for_record(lambda r: r["pid"] == pid)
    assert ns == ino
    assert rec == {"pid": pid, "comm": "python3", "netns": ino, "proto": "TCPv4",
                   "backlog": 7, "port": port, "addr": "127.0.0.1"}, rec
    assert not [r for r in t.json_records() if r["pid"] == outside[0]], t.stdout

    with RunningTool("solisten", "--json", "-p", os.getpid(), ready="ADDR") as t:
        listen_once("6")
    assert t.json_records() == [], t.stdout


@pytest.mark.parametrize("args", [["-n", "x"], ["-n", "0"], ["-p", "-3"], ["--bogus"]])
def test_solisten_bad_input(args):
    bad_input("solisten", *args)
