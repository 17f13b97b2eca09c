import os

import pytest

from .netns import netns_fixture, run_python  # noqa: F401 (the netns fixture)
from .toolrun import RunningTool, bad_input

pytestmark = pytest.mark.usefixtures("root")

# One TCP connection over loopback between two processes: the server accepts
# and closes, the client connects and closes. Prints server pid, client pid,
# server port, client port, and the network namespace's inode.
SESSION = r"""
import os, socket, subprocess, sys
fam = socket.AF_INET6 if sys.argv[1] == "6" else socket.AF_INET
host = "::1" if fam == socket.AF_INET6 else "127.0.0.1"
s = socket.socket(fam)
s.bind((host, 0))
s.listen()
port = s.getsockname()[1]
client = subprocess.Popen([sys.executable, "-c",
    "import os, socket, sys; c = socket.create_connection((sys.argv[1], int(sys.argv[2])));"
    "print(os.getpid(), c.getsockname()[1], flush=True); c.recv(1); c.close()", host, str(port)],
    stdout=subprocess.PIPE, text=True)
a, _ = s.accept()
cpid, cport = client.stdout.readline().split()
a.close()
client.wait()
print(os.getpid(), cpid, port, cport, os.stat("/proc/self/ns/net").st_ino, flush=True)
"""



def session(family="4", netns=None):
    return run_python(SESSION, family, netns=netns)


def test_tcptracer_connect_accept_close():
    with RunningTool("tcptracer", "-t", ready="DPORT") as t:
        assert t.header.split() == ["TIME(s)", "T", "PID", "COMM", "IP", "SADDR", "DADDR",
                                    "SPORT", "DPORT"]
        spid, cpid, port, cport, _ = session()
        mine = lambda ln: {str(port), str(cport)} <= set(ln.split()[-2:])   # noqa: E731
        t.wait_for(lambda ln: mine(ln) and ln.split()[1] == "X" and ln.split()[2] == str(spid))
    lines = [ln.split()[1:] for ln in t.lines if mine(ln)]
    addr = "127.0.0.1"
    assert ["C", str(cpid), "python3", "4", addr, addr, str(cport), str(port)] in lines, t.stdout
    assert ["A", str(spid), "python3", "4", addr, addr, str(port), str(cport)] in lines, t.stdout
    assert ["X", str(spid), "python3", "4", addr, addr, str(port), str(cport)] in lines, t.stdout
    assert ["X", str(cpid), "python3", "4", addr, addr, str(cport), str(port)] in lines, t.stdout
    assert len(lines) == 4, t.stdout
    assert t.stop() == 0, t.stderr


def test_tcptracer_verbose_json_ipv6_and_filters(netns):
    name, ino = netns
    my_netns = os.stat("/proc/self/ns/net").st_ino
    with RunningTool("tcptracer", "-v", "-6", ready="NETNS") as t:
        assert t.header.split() == ["TYPE", "PID", "COMM", "IP", "SADDR", "DADDR", "SPORT",
                                    "DPORT", "NETNS"]
        spid, cpid, port, cport, _ = session("6")
        v4 = session("4")
        t.wait_for(lambda ln: ln.split()[:2] == ["close", str(spid)])
    lines = [ln.split() for ln in t.lines if str(port) in ln.split()]
    assert ["connect", str(cpid), "python3", "6", "[::1]", "[::1]", str(cport), str(port),
            str(my_netns)] in lines, t.stdout
    assert ["accept", str(spid), "python3", "6", "[::1]", "[::1]", str(port), str(cport),
            str(my_netns)] in lines, t.stdout
    assert not [ln for ln in t.lines if str(v4[2]) in ln.split()], t.stdout   # -6

    # -N: only the namespace asked for; --json
    with RunningTool("tcptracer", "--json", "-t", "-N", ino, ready="DPORT") as t:
        outside = session()
        spid, cpid, port, cport, ns = session(netns=name)
        rec = t.wait_for_record(lambda r: r["type"] == "A" and r["sport"] == port)
    assert ns == ino != my_netns
    assert not [r for r in t.json_records() if outside[2] in (r["sport"], r["dport"])], t.stdout
    with RunningTool("tcptracer", "--json", "-p", str(os.getpid()), ready="DPORT") as t:
        session()
    assert t.json_records() == [], t.stdout
    assert rec == {"time_s": rec["time_s"], "type": "A", "pid": spid, "comm": "python3",
                   "ip": 4, "saddr": "127.0.0.1", "daddr": "127.0.0.1", "sport": port,
                   "dport": cport}, rec


@pytest.mark.parametrize("args", [["-N", "x"], ["-N", "-1"], ["-p", "0x"], ["-4", "-6"],
                                  ["--cgroupmap", "/nonexistent/map"]])
def test_tcptracer_bad_input(args):
    bad_input("tcptracer", *args, code=1 if args[0] == "--cgroupmap" else 2)


RESETTER = r"""
import os, socket, struct, sys
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
print(os.getpid(), c.getsockname()[1], flush=True)
sys.stdin.readline()
c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
c.close()               # linger 0: a reset instead of a FIN
"""


def test_tcptracer_reset_close_shows_the_owner():
    """A reset received closes the socket in softirq, here in the resetting
    client's context: X names the process that accepted the socket."""
    import socket
    import subprocess
    import sys
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    port = srv.getsockname()[1]
    with RunningTool("tcptracer", ready="DPORT") as t:
        client = subprocess.Popen([sys.executable, "-c", RESETTER, str(port)], text=True,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        cpid, cport = client.stdout.readline().split()
        a, _ = srv.accept()
        client.communicate("\n", timeout=10)
        t.wait_for(lambda ln: ln.split()[:1] == ["X"] and ln.split()[-2:] == [str(port), cport])
        a.close()
    srv.close()
    closes = {tuple(ln.split()[-2:]): ln.split()[1] for ln in t.lines
              if ln.split()[:1] == ["X"] and {str(port), cport} == set(ln.split()[-2:])}
    assert closes == {(cport, str(port)): cpid, (str(port), cport): str(os.getpid())}, t.stdout
