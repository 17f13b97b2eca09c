import os
import subprocess

import pytest

from pybcc.tools.exitsnoop import exit_text

from .toolrun import RunningTool, bad_input, gated_child, release

pytestmark = pytest.mark.usefixtures("root")


def test_exit_text_formats():
    assert exit_text(0, 0) == "0"
    assert exit_text(3, 0) == "code 3"
    assert exit_text(0, 9) == "signal 9 (KILL)"
    assert exit_text(0, 0x80 | 11) == "signal 11 (SEGV), core dumped "


def test_exitsnoop_exit_code_and_signal():
    with RunningTool("exitsnoop", "-x", "--label=", ready="PCOMM") as t:
        assert t.lines[0].split() == ["LABEL", "PCOMM", "PID", "PPID", "TID", "AGE(s)",
                                      "EXIT_CODE"]
        code = subprocess.Popen(["sh", "-c", "sleep 0.2; exit 3"])
        code.wait()
        killed = subprocess.Popen(["sleep", "30"])
        killed.terminate()
        killed.wait()
        ok = subprocess.Popen(["true"])
        ok.wait()
        line = t.wait_for(lambda ln: ln.split()[2:3] == [str(code.pid)])
        line2 = t.wait_for(lambda ln: ln.split()[2:3] == [str(killed.pid)])
    assert line is not None and line2 is not None, t.stdout
    f = line.split()
    assert f[0] == "exit" and f[1] == "sh" and f[3] == str(os.getpid()) and f[4] == f[2], line
    assert 0.15 <= float(f[5]) < 10, line
    assert line.endswith("code 3"), line
    assert line2.split()[1] == "sleep" and line2.endswith("signal 15 (TERM)"), line2
    # -x leaves out exit(0)
    assert not any(ln.split()[2:3] == [str(ok.pid)] for ln in t.lines), t.stdout


def test_exitsnoop_pid_ends_after_that_process():
    with gated_child(["sh", "-c", "read x; exit 0"]) as child, \
            RunningTool("exitsnoop", "-p", child.pid, ready="PCOMM") as t:
        release(child)
        t.proc.wait(20)
        line = t.wait_for(lambda ln: ln.split()[1:2] == [str(child.pid)])
    assert line is not None and line.endswith(" 0"), t.stdout
    assert t.proc.returncode == 0


def test_exitsnoop_json_has_the_exit_fields():
    with RunningTool("exitsnoop", "--json", "--utc", "--label=", "-x", ready="PCOMM") as t:
        code = subprocess.Popen(["sh", "-c", "sleep 0.2; exit 3"])
        code.wait()
        killed = subprocess.Popen(["sleep", "30"])
        killed.kill()
        killed.wait()
        rec = t.wait_for_record(lambda r: r["pid"] == code.pid)
        rec2 = t.wait_for_record(lambda r: r["pid"] == killed.pid)
    assert rec is not None and rec2 is not None, t.stdout
    assert rec == {"time": rec["time"], "label": "exit", "pcomm": "sh", "pid": code.pid,
                   "ppid": os.getpid(), "tid": code.pid, "age_s": rec["age_s"],
                   "exit_code": {"code": 3, "signal": None, "core_dumped": False}}
    assert 0.15 <= rec["age_s"] < 10 and len(rec["time"]) == 12
    assert rec2["pcomm"] == "sleep"
    assert rec2["exit_code"] == {"code": 0, "signal": 9, "core_dumped": False}
    assert all(ln.startswith("{") for ln in t.lines), t.stdout


@pytest.mark.parametrize("args", [["-p", "x"], ["-p", "999999999"], ["--duration", "-2"],
                                  ["--label"]])
def test_exitsnoop_bad_input(args):
    bad_input("exitsnoop", *args)
