import os
import socket

import pytest

from pybcc.kernel import features
from session_guard import cgroup2_dir

from .toolrun import RunningTool, bad_input

pytestmark = pytest.mark.usefixtures("root")


def local_server(family=socket.AF_INET, host="127.0.0.1"):
    srv = socket.socket(family)
    srv.bind((host, 0))
    srv.listen()
    return srv


def test_tcpconnect_shows_local_connect():
    srv = local_server()
    port = srv.getsockname()[1]
    with RunningTool("tcpconnect", "-L", "-U", "-t", ready="DPORT") as t:
        assert t.header.split() == ["TIME(s)", "UID", "PID", "COMM", "IP", "SADDR",
                                       "LPORT", "DADDR", "DPORT"]
        c = socket.create_connection(("127.0.0.1", port))
        lport = c.getsockname()[1]
        line = t.wait_for(lambda ln: ln.split()[-1:] == [str(port)])
        c.close()
    srv.close()
    assert line is not None, t.stdout + t.stderr
    f = line.split()
    comm = open(f"/proc/{os.getpid()}/comm").read().strip()[:12]
    assert f[1:] == [str(os.getuid()), str(os.getpid()), comm,
                     "4", "127.0.0.1", str(lport), "127.0.0.1", str(port)], line
    assert float(f[0]) >= 0
    assert t.proc.returncode == 0, t.stderr


def test_tcpconnect_port_filter_ipv6_and_count():
    srv = local_server()
    port = srv.getsockname()[1]
    other = local_server()
    other_port = other.getsockname()[1]
    with RunningTool("tcpconnect", "-c", "-P", str(port), ready="Hit Ctrl-C") as t:
        for _ in range(3):
            socket.create_connection(("127.0.0.1", port)).close()
        socket.create_connection(("127.0.0.1", other_port)).close()
        c6 = socket.socket(socket.AF_INET6)
        with pytest.raises(OSError):          # refused: nothing listens on ::1 there
            c6.connect(("::1", port))
        c6.close()
    srv.close()
    other.close()
    assert t.proc.returncode == 0, t.stderr
    rows = [ln.split() for ln in t.lines if ln.strip()]
    assert ["LADDR", "RADDR", "RPORT", "CONNECTS"] in rows
    body = rows[rows.index(["LADDR", "RADDR", "RPORT", "CONNECTS"]) + 1:]
    assert ["127.0.0.1", "127.0.0.1", str(port), "3"] in body, t.stdout
    assert ["::1", "::1", str(port), "1"] in body or ["::", "::1", str(port), "1"] in body, t.stdout
    assert not any(r[2] == str(other_port) for r in body)


def test_tcpconnect_json_has_the_connect_fields():
    srv = local_server()
    port = srv.getsockname()[1]
    with RunningTool("tcpconnect", "--json", "-L", "-U", "-t", "-p", os.getpid(),
                     ready="DPORT") as t:
        c = socket.create_connection(("127.0.0.1", port))
        lport = c.getsockname()[1]
        rec = t.wait_for_record(lambda r: r["dport"] == port)
        c.close()
    srv.close()
    assert rec is not None, t.stdout + t.stderr
    comm = open(f"/proc/{os.getpid()}/comm").read().strip()
    assert rec == {"time_s": rec["time_s"], "uid": os.getuid(), "pid": os.getpid(),
                   "comm": comm, "ip": 4, "saddr": "127.0.0.1", "lport": lport,
                   "daddr": "127.0.0.1", "dport": port}
    assert rec["time_s"] >= 0
    assert all(ln.startswith("{") for ln in t.lines), t.stdout


def test_tcpconnect_count_json():
    srv = local_server()
    port = srv.getsockname()[1]
    with RunningTool("tcpconnect", "--json", "-c", "-P", port, ready="Hit Ctrl-C") as t:
        for _ in range(2):
            socket.create_connection(("127.0.0.1", port)).close()
    srv.close()
    assert t.proc.returncode == 0, t.stderr
    assert t.json_records() == [{"rows": [{"laddr": "127.0.0.1", "raddr": "127.0.0.1",
                                           "rport": port, "connects": 2}]}], t.stdout


@pytest.mark.parametrize("args", [["-P", "80,x"], ["-P", "0"], ["-P", "70000"],
                                  ["-P", ",".join(["1"] * 65)], ["-p", "x"], ["-u", "-1"],
                                  ["--duration", "-5"], ["-4", "-6"]])
def test_tcpconnect_bad_input(args):
    bad_input("tcpconnect", *args)


@pytest.mark.vm
def test_tcpconnect_kprobe_path():
    if not features.has_kprobes():
        if os.environ.get("PYBCC_VMTEST"):
            pytest.fail("the VM kernel should have kprobes")
        pytest.skip("no kprobes on this kernel: tcpconnect uses the tracepoint pair")
    srv = local_server()
    port = srv.getsockname()[1]
    # the VM compiles for its own kernel, slowly
    with RunningTool("tcpconnect", "-L", ready="DPORT", timeout=600) as t:
        c = socket.create_connection(("127.0.0.1", port))
        lport = c.getsockname()[1]
        line = t.wait_for(lambda ln: ln.split()[-1:] == [str(port)], timeout=60)
        c.close()
    srv.close()
    assert line is not None, t.stdout + t.stderr
    assert line.split()[-3:] == [str(lport), "127.0.0.1", str(port)]


@pytest.mark.parametrize("flag", ["--mntnsmap", "--cgroupmap"])
def test_tcpconnect_container_maps(flag):
    """bcc's --cgroupmap/--mntnsmap: only connects from the sets in the pinned map."""
    import uuid
    from pybcc.maps.factory import create_map
    from pybcc.maps.spec import MapSpec
    if not os.path.isdir("/sys/fs/bpf"):
        pytest.skip("no bpffs at /sys/fs/bpf")
    if flag == "--mntnsmap":
        mine = os.stat("/proc/self/ns/mnt").st_ino
    else:
        # our own cgroup v2 (the test session runs in one: tests/session_guard.py)
        mine = os.stat(cgroup2_dir() or pytest.skip("no cgroup v2")).st_ino
    pin = f"/sys/fs/bpf/pybcc-test-{uuid.uuid4().hex[:8]}"
    m = create_map(MapSpec(name="pybcc_test_set", key_size=8, value_size=8, max_entries=16))
    m[(12345).to_bytes(8, "little")] = bytes(8)          # not ours: nothing traced
    m.pin(pin)
    srv = local_server()
    port = srv.getsockname()[1]
    try:
        with RunningTool("tcpconnect", flag, pin, ready="DPORT") as t:
            socket.create_connection(("127.0.0.1", port)).close()
            assert t.wait_for(lambda ln: ln.split()[-1:] == [str(port)], timeout=1.5) is None
            m[mine.to_bytes(8, "little")] = bytes(8)     # now ours; re-read every second
            t.wait_for(lambda ln: False, timeout=1.2)
            socket.create_connection(("127.0.0.1", port)).close()
            assert t.wait_for(lambda ln: ln.split()[-1:] == [str(port)]) is not None, t.stdout
    finally:
        srv.close()
        m.unpin(pin)
        m.close()


# Resolves a name that only a private /etc/hosts knows (bind-mounted in a
# mount namespace of its own), waits, connects to its address, then by name.
DNS_CLIENT = r"""
import socket, sys, time
port = int(sys.argv[1])
socket.getaddrinfo("pybcc-dns-test.example", port)
time.sleep(0.3)
socket.create_connection(("127.0.0.9", port)).close()
socket.create_connection(("pybcc-dns-test.example", port)).close()
"""


def test_tcpconnect_dns(tmp_path):
    import subprocess
    import sys
    hosts = tmp_path / "hosts"
    hosts.write_text("127.0.0.9 pybcc-dns-test.example\n")
    srv = local_server(host="127.0.0.9")
    port = srv.getsockname()[1]
    with RunningTool("tcpconnect", "-d", "-P", port, ready="QUERY") as t:
        assert t.header.split() == ["PID", "COMM", "IP", "SADDR", "DADDR", "DPORT", "QUERY"]
        subprocess.run(["unshare", "-m", "sh", "-c",
                        f'mount --bind {hosts} /etc/hosts && exec "$@"', "sh",
                        sys.executable, "-c", DNS_CLIENT, str(port)], check=True, timeout=30)
        t.wait_for(lambda ln: len([x for x in t.lines if str(port) in x.split()]) >= 2)
    srv.close()
    mine = [ln.split()[4:] for ln in t.lines if ln.split()[5:6] == [str(port)]]
    assert len(mine) == 2 and all(m[:3] == ["127.0.0.9", str(port), "pybcc-dns-test.example"]
                                  for m in mine), t.stdout
    # the first connect came 300 ms after the lookup (a numeric address looks
    # nothing up), bcc's "(N.NNNms)" note; the second right after its own lookup
    assert len(mine[0]) == 4 and 300 <= float(mine[0][3].strip("()ms")) < 2000, t.stdout
    assert len(mine[1]) == 3, t.stdout


def test_tcpconnect_dns_bad_combination():
    assert "-c/--count" in bad_input("tcpconnect", "-d", "-c")
