"""Not collected by itself: tests/test_session_guard.py runs this file in a
pytest session of its own and SIGKILLs that session. The test starts a tool
and a server-like daemon (forked twice, in a session of its own, as pg_ctl
starts PostgreSQL), pins a map where the libbpf oracle pins, writes their
pids and the pin's directory to $PYBCC_GUARD_PIDFILE, and waits."""
import os
import subprocess
import sys
import time

from pybcc.maps.factory import create_map
from pybcc.maps.spec import MapSpec
from tools.toolrun import RunningTool

# Forks twice and leaves its own session: its parent is init, not pytest.
DAEMON = """
import os, sys, time
if os.fork():
    os._exit(0)
os.setsid()
if os.fork():
    os._exit(0)
with open(sys.argv[1], "w") as f:
    f.write(str(os.getpid()))
time.sleep(3600)
"""


def _daemon(pidfile, env=None):
    subprocess.run([sys.executable, "-c", DAEMON, pidfile], env=env, check=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if os.path.exists(pidfile) and open(pidfile).read():
            return int(open(pidfile).read())
        time.sleep(0.05)
    raise AssertionError("the daemon did not start")


def test_start_a_tool_and_a_daemon_then_wait():
    out = os.environ["PYBCC_GUARD_PIDFILE"]
    tool = RunningTool("runqlat", ready="Tracing run queue latency")
    pids = {"tool": tool.proc.pid, "daemon": _daemon(out + ".daemon")}
    if os.environ.get("PYBCC_TEST_GUARD") != "environ":
        # one whose environment has no mark: only the session's cgroup holds it
        pids["bare_daemon"] = _daemon(out + ".bare", env={"PATH": os.environ["PATH"]})
    # a pin where the libbpf oracle pins (a pinned program stays loaded)
    pin_dir = f"/sys/fs/bpf/pybcc_oracle_{os.getpid()}_guard"
    os.makedirs(pin_dir, exist_ok=True)
    pinned = create_map(MapSpec(name="guard_test", key_size=4, value_size=4, max_entries=1))
    pinned.pin(os.path.join(pin_dir, "map"))
    with open(out + ".tmp", "w") as f:
        f.write("".join(f"{name}={pid}\n" for name, pid in pids.items()) + f"pin={pin_dir}\n")
    os.rename(out + ".tmp", out)
    time.sleep(600)
