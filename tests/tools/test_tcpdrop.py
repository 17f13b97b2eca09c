import os
import socket
import time

import pytest

from .test_tcpretrans import drop_all_input
from .toolrun import RunningTool, bad_input

pytestmark = pytest.mark.usefixtures("root")


def filtered_segment(*tool_args, ready="REASON"):
    """A loopback connection whose server socket drops everything (a socket
    filter) while the client sends: returns (tool, client port, server port)."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    port = srv.getsockname()[1]
    with RunningTool("tcpdrop", *tool_args, ready=ready) as t:
        c = socket.create_connection(("127.0.0.1", port))
        conn, _ = srv.accept()
        keep = drop_all_input(conn)
        lport = c.getsockname()[1]
        c.sendall(b"dropped")
        if "--netns-id" in tool_args and "1" in tool_args:
            time.sleep(1.5)
        else:
            t.wait_for(lambda ln: f"127.0.0.1:{lport}" in ln and "SOCKET_FILTER" in ln)
        c.close()
        conn.close()
        del keep
    srv.close()
    return t, lport, port


def test_tcpdrop_reason_and_stack():
    t, lport, port = filtered_segment("-S")
    assert t.header.split() == ["TIME", "PID", "IP", "SADDR:SPORT", ">", "DADDR:DPORT", "STATE",
                                   "(FLAGS)", "REASON", "(CODE)"]
    i = next((i for i, ln in enumerate(t.lines)
              if f"127.0.0.1:{lport} " in ln and "SOCKET_FILTER" in ln), None)
    assert i is not None, t.stdout + t.stderr
    f = t.lines[i].split()
    assert f[2:] == ["4", f"127.0.0.1:{lport}", ">", f"127.0.0.1:{port}", "ESTABLISHED",
                     "(PSH|ACK)", "SOCKET_FILTER", "(5)"], t.lines[i]
    # the kernel stack follows, tab-indented, innermost first, down to TCP's receive path
    stack = []
    for ln in t.lines[i + 1:]:
        if not ln.startswith("\t"):
            break
        stack.append(ln.strip())
    assert any(s.startswith("tcp_v4_rcv+0x") for s in stack), stack
    assert not stack[0].startswith("bpf_"), stack
    assert t.proc.returncode == 0, t.stderr


def test_tcpdrop_json_and_netns_filter():
    me = os.stat("/proc/self/ns/net").st_ino
    t, lport, port = filtered_segment("--json", "--netns-id", me)
    recs = [r for r in t.json_records() if r["saddr_sport"] == f"127.0.0.1:{lport}"
            and r["reason"]["reason"] == "SOCKET_FILTER"]
    assert recs, t.stdout + t.stderr
    r = recs[0]
    assert r == {"time": r["time"], "pid": r["pid"], "ip": 4, "saddr_sport": f"127.0.0.1:{lport}",
                 "daddr_dport": f"127.0.0.1:{port}",
                 "state_flags": {"state": "ESTABLISHED", "flags": "PSH|ACK"},
                 "reason": {"reason": "SOCKET_FILTER", "code": 5}}, r
    # another namespace's drops only: ours are filtered out
    t, lport, port = filtered_segment("--json", "--netns-id", "1")
    assert not [r for r in t.json_records() if f":{lport}" in r["saddr_sport"]], t.stdout


@pytest.mark.parametrize("args", [["-4", "-6"], ["--netns-id", "x"], ["--pid-netns", "-3"],
                                  ["-x"]])
def test_tcpdrop_bad_input(args):
    bad_input("tcpdrop", *args)


def test_tcpdrop_pid_netns_and_netns_id_together():
    from .toolrun import run_tool
    r = run_tool("tcpdrop", "--pid-netns", os.getpid(), "--netns-id", "5")
    assert r.returncode == 1 and "not allowed together" in r.stderr and "Traceback" not in r.stderr
