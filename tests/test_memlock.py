"""RLIMIT_MEMLOCK: raised only on kernels that charge BPF memory to it (< 5.11).

Marked vm so that scripts/vm-tests.sh also runs it on Debian 11's 5.10, the
kernel where the limit matters; on newer kernels it checks nothing is needed.
"""
import os
import platform
import subprocess
import sys

import pytest

from pybcc.kernel import memlock

pytestmark = [pytest.mark.vm, pytest.mark.usefixtures("root")]

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OLD_KERNEL = tuple(int(x) for x in platform.release().split(".")[:2]) < (5, 11)

# A child with a 64 KiB locked-memory limit creates an 8 MiB array map.
CHILD = """
import resource, sys
resource.setrlimit(resource.RLIMIT_MEMLOCK, (64 << 10, 64 << 10))
from pybcc.errors import BPFError
from pybcc.maps import MapSpec, create_map
from pybcc.kernel.uapi import MapType
try:
    m = create_map(MapSpec("memlock_test", MapType.ARRAY, 4, 8, 1 << 20))
except BPFError as e:
    print(e)
    sys.exit(3)
m[5] = 7
print("ok", m[5], resource.getrlimit(resource.RLIMIT_MEMLOCK)[0])
"""


def _child(prefix=()):
    return subprocess.run([*prefix, sys.executable, "-c", CHILD], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)


def test_probe_matches_the_kernel_release():
    assert memlock.charges_memlock() == OLD_KERNEL


def test_big_map_under_a_small_limit():
    r = _child()
    assert r.returncode == 0, r.stdout + r.stderr
    ok, value, soft = r.stdout.split()
    assert (ok, value) == ("ok", "7")
    # Raised only where the kernel charges the limit.
    assert (int(soft) == -1) == OLD_KERNEL


def test_says_so_when_the_limit_cannot_be_raised():
    setpriv = "/usr/bin/setpriv"
    if not os.path.exists(setpriv):
        pytest.skip("needs setpriv (util-linux) to drop CAP_SYS_RESOURCE")
    r = _child([setpriv, "--inh-caps=-sys_resource", "--bounding-set=-sys_resource", "--"])
    if OLD_KERNEL:
        assert r.returncode == 3, r.stdout + r.stderr
        assert "RLIMIT_MEMLOCK" in r.stdout and "ulimit -l" in r.stdout, r.stdout
    else:
        assert r.returncode == 0, r.stdout + r.stderr


def test_execsnoop_under_a_small_limit():
    """The issue's report: on 5.10, `pybcc execsnoop` stopped with EPERM
    creating its maps. Under a 64 KiB limit it must trace an exec."""
    import resource
    import select
    import signal
    import time

    def child_setup():
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        resource.setrlimit(resource.RLIMIT_MEMLOCK, (64 << 10, 64 << 10))

    tool = subprocess.Popen([sys.executable, "-m", "pybcc", "execsnoop"], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=child_setup)
    out = []
    try:
        deadline = time.time() + 300        # TCG in the VM is slow
        marker = f"pybcc-memlock-{os.getpid()}"
        while time.time() < deadline and not any(marker in ln for ln in out):
            if any("PCOMM" in ln for ln in out):
                subprocess.run(["/bin/echo", marker], stdout=subprocess.DEVNULL)
            if select.select([tool.stdout], [], [], 0.5)[0]:
                line = tool.stdout.readline()
                if not line:
                    break
                out.append(line)
    finally:
        tool.send_signal(signal.SIGINT)
        rest, err = tool.communicate(timeout=60)
    assert any(marker in ln for ln in out), "".join(out) + rest + err
