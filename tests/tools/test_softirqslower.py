"""softirqslower against loopback UDP sent by a child named sirq_sender: the
receive softirqs (net_rx) run in the sender's context on this kernel, so
they show with its comm; and a threshold keeps out what is shorter."""
import sys

import pytest

from .badinput import assert_one_line_error
from .toolrun import RunningTool, gated_child, release, run_tool

pytestmark = pytest.mark.usefixtures("root")

SENDER = """
import socket, sys, time
open("/proc/self/comm", "w").write("sirq_sender")
sys.stdin.readline()
r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); r.bind(("127.0.0.1", 0))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(2000):
    s.sendto(b"x" * 64, r.getsockname())
    try:
        r.recv(100, socket.MSG_DONTWAIT)
    except BlockingIOError:
        pass
"""


def traced(*args, ready):
    with gated_child([sys.executable, "-c", SENDER]) as child, \
            RunningTool("softirqslower", *args, ready=ready) as t:
        release(child, 30)
        assert child.returncode == 0
        t.wait_for(lambda ln: "sirq_sender" in ln, timeout=5)
    assert t.proc.returncode == 0, t.stderr
    return t


def test_softirqslower_shows_the_senders_net_rx():
    t = traced("0", ready="COMM")
    assert t.lines[1].split() == ["TIME", "STAGE", "SOFTIRQ", "LAT(us)", "CPU", "COMM"], t.stdout
    mine = [ln for ln in t.lines if ln.endswith(" sirq_sender")]
    runs = [ln for ln in mine if ln[9:29] == "softirq runtime     " and ln[30:38] == "net_rx  "]
    assert runs, t.stdout
    for ln in runs:
        lat, cpu = int(ln[39:53]), int(ln[54:60])
        assert 0 <= lat < 1_000_000 and cpu in range(64), ln


def test_softirqslower_json_threshold_and_cpu():
    t = traced("--json", "-c", "0", "5", ready="Tracing softirq latency higher than 5 us")
    records = t.json_records()
    # only CPU 0 (timer softirqs run there every tick), and only 5 us or more
    assert records and all(r["cpu"] == 0 and r["lat_us"] >= 5 for r in records), records
    assert all(r["stage"] in ("irq(hard) to softirq", "softirq runtime") for r in records)


@pytest.mark.parametrize("args, message", [
    (["-1"], "must not be negative"),
    (["abc"], "invalid number 'abc'"),
    (["-c", "99"], "no CPU 99"),
])
def test_softirqslower_bad_input_is_one_line(args, message):
    assert_one_line_error(run_tool("softirqslower", *args), message)
