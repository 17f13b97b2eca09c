import json
import re
import socket

import pytest

from .toolrun import RunningTool, bad_input

pytestmark = pytest.mark.usefixtures("root")

# a loopback address no other test talks to: its /32 subnet sees only our bytes
HOST = "127.83.61.29"
SIZE = 300_000


def send_bytes(size=SIZE):
    srv = socket.socket()
    srv.bind((HOST, 0))
    srv.listen()
    c = socket.create_connection(srv.getsockname())
    a, _ = srv.accept()
    c.sendall(b"x" * size)
    got = 0
    while got < size:
        got += len(a.recv(1 << 16))
    for s in (a, c, srv):
        s.close()


def test_tcpsubnet_counts_bytes_per_subnet():
    subnets = f"{HOST}/32,10.0.0.0/8,0.0.0.0/0"
    with RunningTool("tcpsubnet", subnets, ready="Hit Ctrl-C") as t:
        send_bytes()
        t.wait_for(lambda ln: ln.startswith(f"{HOST}/32 "), timeout=10)
    assert t.proc.returncode == 0, t.stderr
    assert re.fullmatch(r"\[\S+ \S+\]", t.lines[1]), t.stdout
    mine = [ln for ln in t.lines if ln.startswith(f"{HOST}/32 ")]
    assert sum(int(ln.split()[1]) for ln in mine) == SIZE, t.stdout
    assert all(ln == "%-21s %6d" % (f"{HOST}/32", int(ln.split()[1])) for ln in mine)


def test_tcpsubnet_json_and_format():
    with RunningTool("tcpsubnet", "-J", "-f", "K", "-i", "1", f"{HOST}/32,0.0.0.0/0",
                     ready=None) as t:
        t.wait_for(lambda ln: ln.startswith("{"), timeout=30)      # ready: first interval
        send_bytes()
        t.wait_for(lambda ln: f"{HOST}/32" in ln, timeout=10)
    records = [json.loads(ln) for ln in t.lines]
    assert all(set(r) == {"ts", "date", "time", "entries"} for r in records), t.stdout
    kbytes = sum(r["entries"].get(f"{HOST}/32", 0) for r in records)
    assert kbytes == pytest.approx(SIZE / 1024), t.stdout


@pytest.mark.parametrize("args", [["10.0.0.0"], ["10.0.0.0/33"], ["x/8"], ["-f", "X"],
                                  ["-i", "0"], [",".join(["10.0.0.0/8"] * 65)]])
def test_tcpsubnet_bad_input(args):
    bad_input("tcpsubnet", *args)


@pytest.mark.vm
def test_tcpsubnet_kprobe_path():
    """Kernels before 6.5: bcc's kprobe on tcp_sendmsg, forced here."""
    import os
    from pybcc.kernel import features
    from pybcc.tools.lib.runtime import Tool
    from pybcc.tools.tcpsubnet import constants_for, subnet_list
    if not features.has_kprobes():
        if os.environ.get("PYBCC_VMTEST"):
            pytest.fail("the VM kernel should have kprobes")
        pytest.skip("kprobes are not available on this kernel")
    with Tool("tcpsubnet", constants_for(subnet_list(f"{HOST}/32,0.0.0.0/0"))) as tool:
        tool.attach("send_kprobe")
        send_bytes()
        sent = dict(tool.maps["sent"].items())
    assert sent.get(0) == SIZE, sent
