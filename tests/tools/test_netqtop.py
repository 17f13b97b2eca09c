import os
import socket
import subprocess
import sys

import pytest

from .toolrun import RunningTool, bad_input

pytestmark = pytest.mark.usefixtures("root")

# In the namespace: receive 10 datagrams, then send 7 of 300 bytes back.
PEER = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 9999))
print("ready", flush=True)
for _ in range(10):
    s.recv(2000)
for _ in range(7):
    s.sendto(b"y" * 300, (sys.argv[2], int(sys.argv[3])))
"""


def sh(*cmd):
    subprocess.run(cmd, check=True, capture_output=True)


@pytest.fixture
def veth():
    """A veth pair, one end here (returned) and its peer in a network
    namespace, with IPv6 off and static neighbours: only the test's packets
    cross it. Yields (interface, namespace, our address, peer's address)."""
    n = os.getpid() % 100000
    ns, here, there = f"pybcc-netq-{n}", f"pq{n}a", f"pq{n}b"
    net = f"10.{100 + n % 100}.{n // 100 % 250}"
    sh("ip", "netns", "add", ns)
    try:
        sh("ip", "link", "add", here, "type", "veth", "peer", "name", there, "netns", ns)
        sh("sysctl", "-qw", f"net.ipv6.conf.{here}.disable_ipv6=1")
        sh("ip", "netns", "exec", ns, "sysctl", "-qw", f"net.ipv6.conf.{there}.disable_ipv6=1")
        sh("ip", "addr", "add", f"{net}.1/24", "dev", here)
        sh("ip", "-n", ns, "addr", "add", f"{net}.2/24", "dev", there)
        sh("ip", "link", "set", here, "up")
        sh("ip", "-n", ns, "link", "set", there, "up")
        mac = lambda cmd: subprocess.run(cmd, capture_output=True, text=True,   # noqa: E731
                                         check=True).stdout.split("link/ether ")[1].split()[0]
        sh("ip", "neigh", "replace", f"{net}.2", "lladdr",
           mac(["ip", "-n", ns, "link", "show", there]), "dev", here, "nud", "permanent")
        sh("ip", "-n", ns, "neigh", "replace", f"{net}.1", "lladdr",
           mac(["ip", "link", "show", here]), "dev", there, "nud", "permanent")
        yield here, ns, f"{net}.1", f"{net}.2"
    finally:
        subprocess.run(["ip", "link", "del", here], capture_output=True)
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def exchange(ns, ours, theirs):
    """10 datagrams of 1000 bytes out (1042-byte frames), 7 of 300 back
    (328 bytes at receive, the Ethernet header pulled)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((ours, 0))
    peer = subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, "-c", PEER, theirs,
                             ours, str(s.getsockname()[1])], stdout=subprocess.PIPE, text=True)
    assert peer.stdout.readline().strip() == "ready"
    for _ in range(10):
        s.sendto(b"x" * 1000, (theirs, 9999))
    s.settimeout(10)
    for _ in range(7):
        assert len(s.recv(2000)) == 300
    peer.wait(10)
    s.close()


def test_netqtop_counts_per_queue(veth):
    dev, ns, ours, theirs = veth
    with RunningTool("netqtop", "-n", dev, "-i", 60, "-t", ready="Hit Ctrl-C") as t:
        exchange(ns, ours, theirs)
    assert t.proc.returncode == 0, t.stderr
    lines = t.lines
    assert lines[1] == "TX" and lines[2].split() == ["QueueID", "avg_size", "[0,", "64)", "[64,",
                                                    "512)", "[512,", "2K)", "[2K,", "16K)",
                                                    "[16K,", "64K)", "BPS", "PPS"], t.stdout
    tx_total = next(ln for ln in lines if ln.startswith(" Total"))
    assert tx_total.split()[1:7] == ["1.02K", "0", "0", "10", "0", "0"], t.stdout
    rx = lines[lines.index("RX"):]
    rx_total = next(ln for ln in rx if ln.startswith(" Total"))
    assert rx_total.split()[1:7] == ["328.0", "0", "7", "0", "0", "0"], t.stdout
    assert lines[-1] == "-" * 95


def test_netqtop_json(veth):
    dev, ns, ours, theirs = veth
    with RunningTool("netqtop", "-n", dev, "-i", 60, "--json", ready="Hit Ctrl-C") as t:
        exchange(ns, ours, theirs)
    [rec] = t.json_records()
    assert rec["device"] == dev
    assert rec["tx"]["total"]["packets"] == 10 and rec["tx"]["total"]["bytes"] == 10420, rec
    assert rec["tx"]["total"]["sizes"]["[512, 2K)"] == 10
    assert rec["rx"]["total"]["packets"] == 7 and rec["rx"]["total"]["bytes"] == 7 * 328, rec
    assert [q["queue"] for q in rec["tx"]["queues"]] == list(range(len(rec["tx"]["queues"])))


@pytest.mark.parametrize("args", [[], ["-n", "no-such-dev0"], ["-n", "lo", "-i", "0"],
                                  ["-n", "lo", "-i", "x"]])
def test_netqtop_bad_input(args):
    bad_input("netqtop", *args, code=1 if args[:2] == ["-n", "no-such-dev0"] else 2)
