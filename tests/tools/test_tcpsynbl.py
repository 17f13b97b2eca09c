import socket
import time

import pytest

from .test_tcprtt import histogram
from .toolrun import RunningTool, bad_input

pytestmark = pytest.mark.usefixtures("root")

BACKLOG = 4093      # a listen backlog no one else uses: its section is ours


def unaccepted_connections(n, family=socket.AF_INET, host="127.0.0.1"):
    """n connections to a listener that never accepts: the accept queue
    (the backlog) is 0, 1, ..., n-1 as each handshake completes."""
    srv = socket.socket(family)
    srv.bind((host, 0))
    srv.listen(BACKLOG)
    clients = [socket.create_connection(srv.getsockname()[:2]) for _ in range(n)]
    time.sleep(0.3)
    for c in clients:
        c.close()
    srv.close()


def test_tcpsynbl_backlog_histogram():
    with RunningTool("tcpsynbl", ready="Tracing SYN backlog") as t:
        unaccepted_connections(10)
    assert t.proc.returncode == 0, t.stderr
    # backlogs 0..9 in log2 buckets: 0-1, 2-3, 4-7, 8-15
    assert histogram(t.lines, f"backlog_max = {BACKLOG}") == {0: 2, 2: 2, 4: 4, 8: 2}, t.stdout
    assert "     backlog             : count     distribution" in t.lines


def test_tcpsynbl_json_and_family_filter():
    with RunningTool("tcpsynbl", "--json", "-6", ready="Tracing SYN backlog") as t:
        unaccepted_connections(5, socket.AF_INET6, "::1")
        unaccepted_connections(7)            # IPv4: filtered out by -6
    [rec] = t.json_records()
    mine = [h for h in rec["histograms"] if h["labels"] == {"backlog_max": str(BACKLOG)}]
    assert len(mine) == 1, rec
    assert [(b["low"], b["count"]) for b in mine[0]["buckets"]] == [(0, 2), (2, 2), (4, 1)], rec


@pytest.mark.parametrize("args", [["-4", "-6"], ["--duration", "x"], ["-x"]])
def test_tcpsynbl_bad_input(args):
    bad_input("tcpsynbl", *args)
