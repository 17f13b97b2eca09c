"""rdmaucma: in a VM with Soft-RoCE (rdma_rxe on a veth), an rping client
and server on the veth's address make RDMA CM events; the tool shows them
with the right local and remote address:port, in text and --json. Where the
kernel cannot (no kprobes/fentry, no rdma_ucm), one line says so."""
import shutil
import subprocess
import time

import pytest

from pybcc.tools.rdmaucma import why_not_here
from .kmod import modprobe
from .toolrun import RunningTool, bad_input, run_tool

pytestmark = pytest.mark.usefixtures("root")
ADDR = "10.201.7.1"
PEER = "10.201.7.2"
PORT = 17174
READY = "Tracing RDMA Userspace Connection Manager Access event"


def sh(*cmd):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def soft_roce():
    """rxe0 on veth vrdma0 (ADDR), its peer vrdma1 (PEER); removed afterwards."""
    for tool in ("rdma", "rping"):
        if not shutil.which(tool):
            pytest.skip(f"{tool} is not installed (scripts/setup.sh installs rdmacm-utils)")
    for module in ("rdma_rxe", "rdma_ucm"):
        r = modprobe(module)
        if r is None:
            pytest.skip("modprobe is not installed (scripts/setup.sh installs kmod)")
        if r.returncode:
            pytest.skip(f"kernel module {module} is missing: {r.stderr.strip()}")
    sh("ip", "link", "del", "vrdma0")
    cmds = [("ip", "link", "add", "vrdma0", "type", "veth", "peer", "name", "vrdma1"),
            ("ip", "addr", "add", f"{ADDR}/24", "dev", "vrdma0"),
            ("ip", "addr", "add", f"{PEER}/24", "dev", "vrdma1"),
            ("ip", "link", "set", "vrdma0", "up"), ("ip", "link", "set", "vrdma1", "up")]
    for cmd in cmds:
        r = sh(*cmd)
        assert r.returncode == 0, (cmd, r.stderr)
    r = sh("rdma", "link", "add", "rxe_pybcc", "type", "rxe", "netdev", "vrdma0")
    try:
        if r.returncode:
            pytest.skip(f"rdma_rxe refuses the veth: {r.stderr.strip()}")
        yield
    finally:
        sh("rdma", "link", "delete", "rxe_pybcc")
        sh("ip", "link", "del", "vrdma0")


def rping_once():
    """One rping server and client exchange on ADDR:PORT (the client retried
    until the server listens)."""
    server = subprocess.Popen(["rping", "-s", "-a", ADDR, "-p", str(PORT), "-C", "1"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(20):
            time.sleep(0.5)
            client = sh("rping", "-c", "-a", ADDR, "-p", str(PORT), "-C", "1")
            if client.returncode == 0:
                break
        assert client.returncode == 0, client.stderr
        server.wait(30)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def test_refuses_in_one_line_where_the_kernel_cannot():
    problem = why_not_here()
    if problem is None:
        pytest.skip("this kernel can trace ucma_event_handler (the vm tests cover it)")
    r = run_tool("rdmaucma")
    assert r.returncode == 1
    assert r.stderr == problem + "\n"


def test_bad_input():
    bad_input("rdmaucma", "--duration", "-1")
    bad_input("rdmaucma", "extra")


@pytest.mark.vm
def test_rping_events_in_text(soft_roce):
    if why_not_here():
        pytest.skip(why_not_here())
    with RunningTool("rdmaucma", ready=READY, timeout=300) as t:
        rping_once()
        line = t.wait_for(lambda ln: "established" in ln and f"{ADDR}:{PORT} " in ln)
    assert line, t.stdout
    assert t.lines[1].split() == ["Timestamp", "Event", "Family", "Local", "Remote"]
    # the client's id: resolved towards the server's port
    resolved = [ln.split() for ln in t.lines if ln.split()[-1:] == [f"{ADDR}:{PORT}"]]
    events = [" ".join(f[1:3]) for f in resolved]
    assert "address resolved" in events and "route resolved" in events, t.stdout
    assert all(f[-3] == "IPv4" for f in resolved)


@pytest.mark.vm
def test_rping_events_in_json(soft_roce):
    if why_not_here():
        pytest.skip(why_not_here())
    with RunningTool("rdmaucma", "--json", ready=READY, timeout=300) as t:
        rping_once()
        for side in ("local", "remote"):    # both ids end
            t.wait_for_record(lambda r: r["event"] == "disconnected"
                              and r[side] == f"{ADDR}:{PORT}")
    records = t.json_records()
    server_side = [r for r in records if r["local"] == f"{ADDR}:{PORT}"]
    # the server's id sees the request and the connection; the client's id
    # resolves, then gets the response (librdmacm sends the RTU itself)
    assert [r["event"] for r in server_side] == \
        ["connect request", "established", "disconnected"], records
    # the client id the server took is the one on the port it names; a
    # client that came before the server listened was rejected, and retried
    accepted = server_side[0]["remote"]
    client_side = [r for r in records if r["remote"] == f"{ADDR}:{PORT}"]
    assert [r["event"] for r in client_side if r["local"] == accepted] == \
        ["address resolved", "route resolved", "connect response", "disconnected"], records
    assert {r["event"] for r in client_side if r["local"] != accepted} <= \
        {"address resolved", "route resolved", "rejected"}, records
    assert all(r["family"] == "IPv4" and r["time"] for r in records)


@pytest.mark.vm
def test_kprobe_fallback_reads_the_same_events(soft_roce):
    """The kprobe twin (used where fentry is refused) decodes the same ids."""
    from pybcc.kernel import features
    from pybcc.tools.lib.runtime import Tool
    from pybcc.tools.rdmaucma import event_name
    if not features.has_kprobes():
        pytest.skip("no kprobes in this kernel")
    if why_not_here():
        pytest.skip(why_not_here())
    seen = []
    with Tool("rdmaucma", events=True) as tool:
        tool.attach("ucma_event_kprobe")
        record = tool.record("event")
        tool.open_events(lambda data: seen.append(record.decode(data)))
        rping_once()
        deadline = time.time() + 15
        while time.time() < deadline and sum(event_name(e) == "disconnected" for e in seen) < 2:
            tool.poll(100)
    client = [event_name(e) for e in seen if e.dport == PORT]
    server = [event_name(e) for e in seen if e.lport == PORT]
    assert client == ["address resolved", "route resolved", "connect response", "disconnected"]
    assert server == ["connect request", "established", "disconnected"]
