"""mptcpify: while it runs, the chosen programs' new TCP sockets are MPTCP
(SO_PROTOCOL says 262), other programs' stay TCP; where the kernel cannot run
fmod_ret programs on update_socket_protocol, one line says so."""
import socket
import subprocess
import sys

import pytest

from pybcc.tools.mptcpify import why_not_here
from .toolrun import RunningTool, bad_input, run_tool

pytestmark = pytest.mark.usefixtures("root")
IPPROTO_MPTCP = 262
# A child named NAME (its comm) that opens a TCP socket and prints its protocol.
CHILD = """import socket, sys
open("/proc/self/comm", "w").write(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
print(s.getsockopt(socket.SOL_SOCKET, socket.SO_PROTOCOL))
"""


def protocol_of_new_socket(comm):
    out = subprocess.run([sys.executable, "-c", CHILD, comm], capture_output=True, text=True,
                         check=True, timeout=60)
    return int(out.stdout)


def test_refuses_in_one_line_where_the_kernel_cannot():
    problem = why_not_here()
    if problem is None:
        pytest.skip("this kernel runs fmod_ret on update_socket_protocol (the vm test covers it)")
    r = run_tool("mptcpify", "-t", "curl")
    assert r.returncode == 1
    assert r.stderr == problem + "\n"


def test_bad_targets():
    bad_input("mptcpify", "-t", " , ")


@pytest.mark.vm
def test_chosen_programs_get_mptcp_sockets_and_others_tcp():
    if why_not_here():
        pytest.skip(why_not_here())
    if not hasattr(socket, "SO_PROTOCOL"):
        pytest.skip("no SO_PROTOCOL")
    subprocess.run(["sysctl", "-qw", "net.mptcp.enabled=1"], capture_output=True)
    with RunningTool("mptcpify", "-t", "mptcp_yes,other", "--json",
                     ready="MPTCP is been forced for", timeout=300) as t:
        assert protocol_of_new_socket("mptcp_yes") == IPPROTO_MPTCP
        assert protocol_of_new_socket("mptcp_no") == socket.IPPROTO_TCP
    assert t.json_records() == [{"forced": "targets", "targets": ["mptcp_yes", "other"]}]
    assert protocol_of_new_socket("mptcp_yes") == socket.IPPROTO_TCP   # detached at exit


@pytest.mark.vm
def test_without_targets_every_program():
    if why_not_here():
        pytest.skip(why_not_here())
    with RunningTool("mptcpify", ready="MPTCP is been forced for  all applications",
                     timeout=300):
        assert protocol_of_new_socket("anything") == IPPROTO_MPTCP
