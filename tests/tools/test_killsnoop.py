import subprocess
import sys

import pytest

from .toolrun import RunningTool, bad_input

pytestmark = pytest.mark.usefixtures("root")

# Sends signal 0 to itself (succeeds) and to pid 2**22+1 (fails: ESRCH), prints its pid.
KILLER = """
import os
print(os.getpid(), flush=True)
os.kill(os.getpid(), 0)
try:
    os.kill(4194305, 0)
except ProcessLookupError:
    pass
"""


def test_killsnoop_shows_kill_calls_with_result():
    with RunningTool("killsnoop", "-s", "0", ready="TPID") as t:
        assert t.lines[0].split() == ["TIME", "PID", "COMM", "SIG", "TPID", "RESULT"]
        pid = int(subprocess.run([sys.executable, "-c", KILLER], capture_output=True,
                                 text=True, check=True).stdout)
        ok = t.wait_for(lambda ln: ln.split()[1:2] == [str(pid)] and ln.split()[4] == str(pid))
        failed = t.wait_for(lambda ln: ln.split()[1:2] == [str(pid)] and
                            ln.split()[4] == "4194305")
    assert ok is not None and failed is not None, t.stdout
    f = ok.split()
    assert f[2].startswith("python") and f[3:] == ["0", str(pid), "0"], ok
    assert failed.split()[-1] == "-3", failed          # ESRCH
    assert t.proc.returncode == 0


def test_killsnoop_failed_only_and_target_filter():
    victim = subprocess.Popen(["sleep", "30"])
    with RunningTool("killsnoop", "-x", "--duration", "20", ready="TPID") as t:
        victim.kill()
        victim.wait()
        pid = int(subprocess.run([sys.executable, "-c", KILLER], capture_output=True,
                                 text=True, check=True).stdout)
        failed = t.wait_for(lambda ln: ln.split()[1:2] == [str(pid)])
    assert failed is not None and failed.split()[4] == "4194305", t.stdout
    assert not any(ln.split()[4:5] == [str(victim.pid)] for ln in t.lines[1:]), t.stdout
    with RunningTool("killsnoop", "-T", victim.pid + 100000, ready="TPID") as t:
        subprocess.run([sys.executable, "-c", KILLER], check=True, capture_output=True)
    assert len(t.lines) == 1, t.stdout


def test_killsnoop_json_has_the_kill_fields():
    child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.readline()\n" + KILLER],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    with RunningTool("killsnoop", "--json", "-p", child.pid, ready="TPID") as t:
        child.communicate("go\n")
        ok = t.wait_for_record(lambda r: r["tpid"] == child.pid)
        failed = t.wait_for_record(lambda r: r["tpid"] == 4194305)
    assert ok is not None and failed is not None, t.stdout
    assert ok == {"time": ok["time"], "pid": child.pid, "comm": "python3", "sig": 0,
                  "tpid": child.pid, "result": 0}
    assert (failed["pid"], failed["sig"], failed["result"]) == (child.pid, 0, -3)   # ESRCH
    assert len(ok["time"]) == 8 and ok["time"].count(":") == 2
    assert all(ln.startswith("{") for ln in t.lines), t.stdout


@pytest.mark.parametrize("args", [["-p", "x"], ["-p", "-1"], ["-s", "200"], ["-s", "KILL"],
                                  ["-T", "x"], ["-T", str(2**40)], ["--duration", "0"]])
def test_killsnoop_bad_input(args):
    bad_input("killsnoop", *args)
