import os
import signal
import subprocess
import time

import pytest

from .toolrun import RunningTool, bad_input

pytestmark = pytest.mark.usefixtures("root")


def my_comm():
    with open("/proc/self/comm") as f:
        return f.read().strip()


def sleeper():
    """A child that has exec'd sleep (so its comm is "sleep" when signalled)."""
    child = subprocess.Popen(["sleep", "30"])
    deadline = time.time() + 5
    while time.time() < deadline:
        with open(f"/proc/{child.pid}/comm") as f:
            if f.read().strip() == "sleep":
                break
        time.sleep(0.01)
    return child


def test_sigsnoop_shows_the_signal_this_test_sends():
    with RunningTool("sigsnoop", "-p", os.getpid(), ready="RESULT") as t:
        assert t.header.split() == ["TIME", "PID", "COMM", "SIG", "TPID", "TCOMM", "RESULT"]
        child = sleeper()
        os.kill(child.pid, signal.SIGUSR2)
        child.wait()
        line = t.wait_for(lambda ln: f" {child.pid} " in ln)
    assert line is not None, t.stdout
    fields = line.split()
    assert fields[1:] == [str(os.getpid()), my_comm(), str(int(signal.SIGUSR2)),
                          str(child.pid), "sleep", "0"], line


def test_sigsnoop_name_and_signal_filter_json():
    with RunningTool("sigsnoop", "-n", "-s", "10,15", "-p", os.getpid(), "--json",
                     ready="RESULT") as t:
        child = sleeper()
        os.kill(child.pid, signal.SIGUSR2)     # not in -s: filtered out
        os.kill(child.pid, signal.SIGTERM)
        child.wait()
        rec = t.wait_for_record(lambda r: r["tpid"] == child.pid)
    assert rec is not None, t.stdout
    rec.pop("time")
    assert rec == {"pid": os.getpid(), "comm": my_comm(), "sig": "SIGTERM",
                   "tpid": child.pid, "tcomm": "sleep", "result": 0}
    assert [r["sig"] for r in t.json_records() if r["tpid"] == child.pid] == ["SIGTERM"]


def test_sigsnoop_kill_syscall_failed_only():
    child = sleeper()
    child.kill()
    child.wait()                                # its pid is now free: kill() fails
    with RunningTool("sigsnoop", "-k", "-x", "-p", os.getpid(), ready="RESULT") as t:
        live = sleeper()
        os.kill(live.pid, signal.SIGKILL)      # succeeds: not shown with -x
        live.wait()
        with pytest.raises(ProcessLookupError):
            os.kill(child.pid, signal.SIGUSR1)
        line = t.wait_for(lambda ln: f" {child.pid} " in ln)
    assert line is not None, t.stdout
    fields = line.split()
    assert fields[1] == str(os.getpid()) and fields[3] == str(int(signal.SIGUSR1)), line
    assert fields[-1] == "-3", line             # ESRCH
    assert not any(f" {live.pid} " in ln for ln in t.lines), t.stdout


@pytest.mark.parametrize("args", [("-s", "0"), ("-s", "9,x"), ("-p", "abc")])
def test_sigsnoop_bad_input(args):
    bad_input("sigsnoop", *args)
