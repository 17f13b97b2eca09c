"""A test session that is SIGKILLed leaves nothing running and nothing
attached: its watchdog (tests/session_guard.py) kills the tools and servers
the session started, removes its cgroup, its cache directory and its bpffs
pins."""
import os
import subprocess
import sys
import time

import pytest

from many_at_once import existing, held
from session_guard import cgroup2_dir

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INNER = os.path.join(ROOT, "tests", "session_guard_inner.py")


def _alive(pid):
    """Running (a zombie has ended: its parent just has not reaped it yet)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _wait_for_file(path, session, timeout=120):
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        assert session.poll() is None, "the inner session ended early"
        assert time.monotonic() < deadline, "the inner session did not start its processes"
        time.sleep(0.1)
    with open(path) as f:
        return dict(ln.split("=") for ln in f.read().split())


@pytest.mark.parametrize("mark", ["cgroup", "environ"])
def test_sigkilled_session_leaves_no_process_and_no_bpf_object(root, tmp_path, mark):
    if mark == "cgroup" and cgroup2_dir() is None:
        pytest.skip("no cgroup v2 here: the sessions are marked by their environment only")
    pidfile = str(tmp_path / "pids")
    env = dict(os.environ, PYBCC_GUARD_PIDFILE=pidfile, PYBCC_TEST_GUARD=mark)
    with open(tmp_path / "session.out", "w") as out:
        session = subprocess.Popen(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", INNER],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        pids = _wait_for_file(pidfile, session)
        pin_dir = pids.pop("pin")
        pids = {name: int(pid) for name, pid in pids.items()}
        assert os.path.isdir(pin_dir)
        tool = held(pids["tool"])
        assert tool["prog"] and tool["link"], "the tool attached nothing to check"
        cgroup = cgroup2_dir(pids["tool"])
        if mark == "cgroup":
            assert os.path.basename(cgroup).startswith("pybcc-tests-"), cgroup
        with open(f"/proc/{pids['tool']}/environ", "rb") as f:
            cache = next(v for v in f.read().split(b"\0") if v.startswith(b"PYBCC_CACHE_DIR="))
        cache = cache.split(b"=", 1)[1].decode()
    finally:
        session.kill()
        session.wait()

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (
            any(_alive(p) for p in pids.values()) or os.path.exists(cache)
            or os.path.exists(pin_dir)):
        time.sleep(0.1)
    left = {name: pid for name, pid in pids.items() if _alive(pid)}
    assert not left, f"left running after the SIGKILL: {left}"
    assert not tool["prog"] & existing("prog"), "the tool's programs are still loaded"
    assert not tool["link"] & existing("link"), "the tool's links are still there"
    assert not os.path.exists(cache), "the session's cache directory is left"
    assert not os.path.exists(pin_dir), "the session's bpffs pins are left"
    if mark == "cgroup":
        deadline = time.monotonic() + 15
        while os.path.isdir(cgroup) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not os.path.isdir(cgroup), "the session's cgroup is left"
