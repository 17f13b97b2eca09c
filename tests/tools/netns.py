"""A network namespace for the networking tools' tests (import the fixture)."""
import os
import subprocess
import sys

import pytest


@pytest.fixture(name="netns")
def netns_fixture(request):
    """A network namespace with lo up: (name, inode); removed afterwards."""
    name = f"pybcc-{request.node.name[:20]}-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True)
        yield name, os.stat(f"/run/netns/{name}").st_ino
    finally:
        subprocess.run(["ip", "netns", "del", name])


def run_python(code, *args, netns=None, timeout=30):
    """Run a Python snippet (in a network namespace when given); its stdout's
    whitespace-separated numbers as a tuple."""
    cmd = [sys.executable, "-c", code, *map(str, args)]
    if netns:
        cmd = ["ip", "netns", "exec", netns] + cmd
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=True).stdout
    return tuple(map(int, out.split()))
