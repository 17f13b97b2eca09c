import os
import subprocess
import uuid

import pytest

from .toolrun import RunningTool

pytestmark = pytest.mark.usefixtures("root")


def test_execsnoop_shows_marker_exec_with_fields():
    marker = f"pybcc-{uuid.uuid4().hex[:8]}"
    with RunningTool("execsnoop", "-U", ready="PCOMM") as t:
        assert t.header.split() == ["UID", "PCOMM", "PID", "PPID", "RET", "ARGS"]
        child = subprocess.Popen(["/bin/echo", marker, "two words"], stdout=subprocess.DEVNULL)
        child.wait()
        line = t.wait_for(lambda ln: marker in ln)
    assert line is not None, t.stdout
    fields = line.split()
    assert len(fields) >= 6, line
    assert fields[0] == str(os.getuid()), line
    assert fields[1] == "echo", line
    assert fields[2] == str(child.pid), line
    assert fields[3] == str(os.getpid()), line
    assert fields[4] == "0", line
    assert line.endswith(f"/bin/echo {marker} two words")
    assert t.proc.returncode == 0


def test_execsnoop_failed_exec_only_with_x():
    marker = f"/nonexistent/pybcc-{uuid.uuid4().hex[:8]}"
    with RunningTool("execsnoop", "-x", "-q", ready="PCOMM") as t:
        with pytest.raises(OSError):
            subprocess.run([marker, "arg"])
        line = t.wait_for(lambda ln: marker in ln)
    assert line is not None, t.stdout
    assert line.split()[3] == "-2"             # ENOENT
    assert f'"{marker}" "arg"' in line


def test_execsnoop_max_args_and_name_filter():
    marker = f"pybcc-{uuid.uuid4().hex[:8]}"
    with RunningTool("execsnoop", "--max-args", "3", "-n", "^echo$", ready="PCOMM") as t:
        subprocess.run(["/bin/true", marker])       # filtered out by -n
        subprocess.run(["/bin/echo", marker, "b", "c", "d"], stdout=subprocess.DEVNULL)
        line = t.wait_for(lambda ln: marker in ln and "echo" in ln)
        assert line is not None, t.stdout
    assert line.endswith(f"/bin/echo {marker} b ...")
    assert not any(marker in ln and ln.split()[0] == "true" for ln in t.lines)


def test_execsnoop_json_has_the_exec_fields():
    marker = f"pybcc-{uuid.uuid4().hex[:8]}"
    with RunningTool("execsnoop", "--json", ready="PCOMM") as t:
        child = subprocess.Popen(["/bin/echo", marker, "two words"], stdout=subprocess.DEVNULL)
        child.wait()
        rec = t.wait_for_record(lambda r: marker in r["args"])
    assert rec is not None, t.stdout
    assert rec == {"comm": "echo", "pid": child.pid, "ppid": os.getpid(), "ret": 0,
                   "args": f"/bin/echo {marker} two words"}
    assert all(ln.startswith("{") for ln in t.lines), t.stdout   # stdout is JSON lines only
