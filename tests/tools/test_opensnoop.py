import os
import subprocess
import sys
import uuid

import pytest

from .toolrun import RunningTool

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
        mine = os.stat("/sys/fs/cgroup/unified" if os.path.isdir("/sys/fs/cgroup/unified")
                       else "/sys/fs/cgroup").st_ino
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
