import os
import subprocess
import sys
import uuid

import pytest
from session_guard import cgroup2_dir

from .toolrun import RunningTool, bad_input

pytestmark = pytest.mark.usefixtures("root")

# A child that opens a path (relative to its cwd) and prints its pid; the
# fd it gets is the lowest free one, 3 for a fresh interpreter.
OPENER = """
import os, sys
print(os.getpid(), flush=True)
try:
    fd = os.open(sys.argv[1], os.O_RDONLY)
    print(fd, flush=True)
except OSError as e:
    print(-e.errno, flush=True)
"""


def run_opener(path, cwd=None):
    out = subprocess.run([sys.executable, "-c", OPENER, path], cwd=cwd, capture_output=True,
                         text=True, check=True).stdout.split()
    return int(out[0]), int(out[1])


def test_opensnoop_open_and_failed_open(tmp_path):
    marker = tmp_path / f"pybcc-{uuid.uuid4().hex[:8]}"
    marker.write_text("x")
    missing = tmp_path / f"pybcc-missing-{uuid.uuid4().hex[:8]}"
    with RunningTool("opensnoop", "-U", "-e", "-n", "python", ready="PATH") as t:
        assert t.lines[0].split() == ["UID", "PID", "COMM", "FD", "ERR", "FLAGS", "PATH"]
        pid, fd = run_opener(str(marker))
        pid2, err = run_opener(str(missing))
        line = t.wait_for(lambda ln: ln.endswith(str(marker)))
        line2 = t.wait_for(lambda ln: ln.endswith(str(missing)))
    assert line is not None and line2 is not None, t.stdout
    f = line.split()
    assert f[0] == str(os.getuid()) and f[1] == str(pid) and f[2].startswith("python"), line
    assert f[3] == str(fd) and f[4] == "0", line
    assert int(f[5], 8) & 0o3 == os.O_RDONLY, line
    f2 = line2.split()
    assert f2[1] == str(pid2) and f2[3] == "-1" and f2[4] == str(-err) == "2", line2
    assert t.proc.returncode == 0


def test_opensnoop_failed_only_full_path_and_pid_filter(tmp_path):
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "present").write_text("x")
    name = f"pybcc-missing-{uuid.uuid4().hex[:8]}"
    with RunningTool("opensnoop", "-x", "-F", ready="PATH") as t:
        run_opener("present", cwd=sub)
        run_opener(name, cwd=sub)
        line = t.wait_for(lambda ln: name in ln)
    assert line is not None, t.stdout
    assert line.split()[-1] == str(sub / name), line
    assert not any(ln.endswith("present") for ln in t.lines), t.stdout


def test_opensnoop_duration_and_bad_flag():
    r = subprocess.run([sys.executable, "-m", "pybcc", "opensnoop", "-f", "O_NOPE"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode != 0 and "Bad flag: O_NOPE" in r.stderr
    r = subprocess.run([sys.executable, "-m", "pybcc", "opensnoop", "-d", "1", "-p", "1",
                        "-b", "8"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0].split() == ["PID", "COMM", "FD", "ERR", "PATH"]


# Opens each path of argv (relative to its cwd) once told to go on stdin,
# so that a tool can be started with -p on it first; prints each result.
GATED_OPENER = """
import os, sys
sys.stdin.readline()
for path in sys.argv[1:]:
    try:
        print(os.open(path, os.O_RDONLY), flush=True)
    except OSError as e:
        print(-e.errno, flush=True)
"""


def run_gated_opener(tool_args, paths, cwd=None):
    """Run opensnoop with tool_args and -p on a child that opens paths;
    returns the tool (stopped), the child's pid and its results."""
    child = subprocess.Popen([sys.executable, "-c", GATED_OPENER, *paths], cwd=cwd, text=True,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    with RunningTool("opensnoop", *tool_args, "-p", child.pid, ready="PATH") as t:
        results = [int(x) for x in child.communicate("go\n", timeout=30)[0].split()]
        names = {os.path.basename(p) for p in paths}
        t.wait_for(lambda ln: names <= {os.path.basename(x.rstrip('"}')) for x in t.lines},
                   timeout=10)
    return t, child.pid, results


def test_opensnoop_json_has_the_open_fields(tmp_path):
    (tmp_path / "present").write_text("x")
    missing = f"pybcc-missing-{uuid.uuid4().hex[:8]}"
    # -F -e -U: the full path, the flags and the uid (the Record path)
    t, pid, (fd, err) = run_gated_opener(["--json", "-F", "-e", "-U"], ["present", missing],
                                         cwd=tmp_path)
    recs = {r["path"]: r for r in t.json_records()}
    ok, bad = recs.get(str(tmp_path / "present")), recs.get(str(tmp_path / missing))
    assert ok is not None and bad is not None, t.stdout
    assert ok == {"uid": os.getuid(), "pid": pid, "comm": "python3", "fd": fd, "err": 0,
                  "flags": ok["flags"], "path": str(tmp_path / "present")}
    assert ok["flags"] & 0o3 == os.O_RDONLY
    assert (bad["pid"], bad["fd"], bad["err"]) == (pid, -1, -err) == (pid, -1, 2)
    assert all(ln.startswith("{") for ln in t.lines), t.stdout   # stdout is JSON lines only


def test_opensnoop_json_plain_columns(tmp_path):
    marker = tmp_path / f"pybcc-{uuid.uuid4().hex[:8]}"
    marker.write_text("x")
    t, pid, (fd,) = run_gated_opener(["--json", "-n", "python"], [str(marker)])
    recs = [r for r in t.json_records() if r["path"] == str(marker)]
    assert recs == [{"pid": pid, "comm": "python3", "fd": fd, "err": 0, "path": str(marker)}]


@pytest.mark.parametrize("args", [
    ["-p", "abc"], ["-p", "-3"], ["-t", "999999999"], ["-u", "-5"], ["-u", "4294967296"],
    ["-d", "-1"], ["-d", "x"], ["-b", "3"], ["-b", "0"], ["-f", "WRONLY"]])
def test_opensnoop_bad_input(args):
    bad_input("opensnoop", *args)


def test_opensnoop_missing_pinned_map():
    line = bad_input("opensnoop", "--cgroupmap", f"/sys/fs/bpf/pybcc-none-{uuid.uuid4().hex}",
                     code=1)
    assert "pybcc-none-" in line


def _pinned_set(path, keys):
    """A pinned hash map u64 → u64 as bcc's --cgroupmap/--mntnsmap expect."""
    from pybcc.maps.factory import create_map
    from pybcc.maps.spec import MapSpec
    m = create_map(MapSpec(name="pybcc_test_set", key_size=8, value_size=8, max_entries=16))
    for k in keys:
        m[k.to_bytes(8, "little")] = (0).to_bytes(8, "little")
    m.pin(str(path))
    return m


@pytest.mark.parametrize("flag", ["--mntnsmap", "--cgroupmap"])
def test_opensnoop_container_maps(flag, tmp_path):
    if not os.path.isdir("/sys/fs/bpf"):
        pytest.skip("no bpffs at /sys/fs/bpf")
    pin = f"/sys/fs/bpf/pybcc-test-{uuid.uuid4().hex[:8]}"
    if flag == "--mntnsmap":
        mine = os.stat("/proc/self/ns/mnt").st_ino
    else:
        # our own cgroup v2 (the test session runs in one: tests/session_guard.py)
        mine = os.stat(cgroup2_dir() or pytest.skip("no cgroup v2")).st_ino
    marker = tmp_path / f"pybcc-{uuid.uuid4().hex[:8]}"
    m = _pinned_set(pin, [12345])          # not ours: nothing traced
    try:
        with RunningTool("opensnoop", flag, pin, ready="PATH") as t:
            run_opener(str(marker))
            assert t.wait_for(lambda ln: str(marker) in ln, timeout=1.5) is None, t.stdout
            m[mine.to_bytes(8, "little")] = (0).to_bytes(8, "little")   # now ours
            t.wait_for(lambda ln: False, timeout=1.2)      # the set is re-read every second
            run_opener(str(marker))
            assert t.wait_for(lambda ln: str(marker) in ln) is not None, t.stdout + t.stderr
    finally:
        m.unpin(pin)
        m.close()
