import subprocess
import sys
import uuid

import pytest

from .toolrun import RunningTool, bad_input, gated_child, release

pytestmark = pytest.mark.usefixtures("root")

STATTER = """
import os, sys
print(os.getpid(), flush=True)
os.stat(sys.argv[1])
try:
    os.stat(sys.argv[2])
except FileNotFoundError:
    pass
os.statvfs(sys.argv[1])
"""


def test_statsnoop_stat_statfs_and_failure(tmp_path):
    marker = tmp_path / f"pybcc-{uuid.uuid4().hex[:8]}"
    marker.write_text("x")
    missing = tmp_path / f"pybcc-missing-{uuid.uuid4().hex[:8]}"
    with RunningTool("statsnoop", "-t", ready="PATH") as t:
        assert t.lines[0].split() == ["TIME(s)", "PID", "COMM", "FD", "ERR", "PATH"]
        pid = int(subprocess.run([sys.executable, "-c", STATTER, marker, missing],
                                 capture_output=True, text=True, check=True).stdout)
        ok = t.wait_for(lambda ln: ln.endswith(str(marker)) and ln.split()[1] == str(pid))
        bad = t.wait_for(lambda ln: ln.endswith(str(missing)))
        # stat and statfs (statvfs) both on the marker
        marker_lines = []
        t.wait_for(lambda ln: ln.endswith(str(marker)) and not marker_lines.append(ln)
                   and len(marker_lines) >= 2, timeout=5)
    assert ok is not None and bad is not None, t.stdout
    f = ok.split()
    assert float(f[0]) >= 0 and f[2].startswith("python") and f[3:5] == ["0", "0"], ok
    assert bad.split()[1:2] == [str(pid)] and bad.split()[3:5] == ["-1", "2"], bad
    assert sum(ln.endswith(str(marker)) for ln in t.lines) >= 2, t.stdout


def test_statsnoop_failed_only_and_pid():
    missing = f"/nonexistent-pybcc-{uuid.uuid4().hex[:8]}"
    checker = [sys.executable, "-c", "import os,sys; sys.stdin.readline(); "
               "[os.path.exists(p) for p in ('/', sys.argv[1])]", missing]
    with gated_child(checker) as child, \
            RunningTool("statsnoop", "-x", "-p", child.pid, ready="PATH") as t:
        release(child)
        line = t.wait_for(lambda ln: ln.endswith(missing))
    assert line is not None and line.split()[0] == str(child.pid), t.stdout
    assert all(ln.split()[0] == str(child.pid) and ln.split()[3] != "0"
               for ln in t.lines[1:]), t.stdout


def test_statsnoop_json_has_the_stat_fields():
    missing = f"/nonexistent-pybcc-{uuid.uuid4().hex[:8]}"
    checker = [sys.executable, "-c", "import os,sys; sys.stdin.readline(); "
               "os.stat('/'); os.path.exists(sys.argv[1])", missing]
    with gated_child(checker) as child, \
            RunningTool("statsnoop", "--json", "-t", "-p", child.pid, ready="PATH") as t:
        release(child)
        bad = t.wait_for_record(lambda r: r["path"] == missing)
        ok = t.wait_for_record(lambda r: r["path"] == "/")
    assert bad is not None and ok is not None, t.stdout
    assert bad == {"time_s": bad["time_s"], "pid": child.pid, "comm": "python3", "fd": -1,
                   "err": 2, "path": missing}
    assert (ok["pid"], ok["fd"], ok["err"]) == (child.pid, 0, 0)
    assert 0 <= ok["time_s"] <= bad["time_s"] < 5
    assert all(ln.startswith("{") for ln in t.lines), t.stdout


@pytest.mark.parametrize("args", [["-p", "x"], ["-p", "0"], ["-p", "999999999"],
                                  ["--duration", "-1"], ["--duration", "soon"], ["-z"]])
def test_statsnoop_bad_input(args):
    bad_input("statsnoop", *args)
