import os
import subprocess
import tempfile

import pytest

from .toolrun import RunningTool, bad_input
from .test_biolatency import block_dir

pytestmark = pytest.mark.usefixtures("root")


def traced_dd(tool_args, bs, count, written):
    """biosnoop on the test directory's disk while dd writes ``count``
    direct blocks of ``bs``; written(t, pid) says when all are seen.
    Returns the stopped tool, dd's pid and the disk."""
    directory, disk = block_dir()
    fd, path = tempfile.mkstemp(dir=directory, prefix="pybcc-biosnoop-")
    os.close(fd)
    try:
        with RunningTool("biosnoop", *tool_args, "-d", disk, ready="LAT(ms)") as t:
            dd = subprocess.Popen(["dd", "if=/dev/zero", f"of={path}", f"bs={bs}",
                                   f"count={count}", "oflag=direct"], stderr=subprocess.DEVNULL)
            assert dd.wait() == 0
            t.wait_for(lambda ln: written(t, dd.pid))
    finally:
        os.unlink(path)
    return t, dd.pid, disk


def test_biosnoop_shows_direct_writes_of_dd():
    def written(t, pid):
        return len([x for x in t.lines if f" {pid} " in x and " W " in x]) >= 20
    t, pid, disk = traced_dd(["-Q", "-P"], "16k", 20, written)
    assert t.header.split() == ["TIME(s)", "COMM", "PID", "DISK", "T", "SECTOR",
                                "BYTES", "P", "QUE(ms)", "LAT(ms)"]
    pid = str(pid)
    assert t.proc.returncode == 0, t.stderr
    writes = [ln.split() for ln in t.lines if f" {pid} " in ln and " W " in ln]
    assert len(writes) >= 20, t.stdout
    for f in writes:
        time_s, comm, p, dsk, rw, sector, size, pattern, que, lat = f
        assert (comm, p, dsk, rw, size) == ("dd", pid, disk, "W", "16384"), f
        assert pattern in "SR?" and int(sector) >= 0
        assert 0 <= float(que) < 10_000 and 0 <= float(lat) < 10_000, f
    # consecutive 16k writes to one file are mostly sequential on disk
    assert sum(f[7] == "S" for f in writes) >= len(writes) // 2, t.stdout


def test_biosnoop_rejects_unknown_disk():
    from .toolrun import run_tool
    r = run_tool("biosnoop", "-d", "nosuchdisk0")
    assert r.returncode == 2 and "no such disk 'nosuchdisk0'" in r.stderr


def test_biosnoop_json_has_the_io_fields():
    def written(t, pid):
        return sum(f'"pid": {pid},' in x for x in t.lines) >= 10
    t, pid, disk = traced_dd(["--json", "-Q"], "8k", 10, written)
    writes = [r for r in t.json_records() if r["pid"] == pid and r["rw"] == "W"]
    assert len(writes) >= 10, t.stdout
    for r in writes:
        assert set(r) == {"time_s", "comm", "pid", "disk", "rw", "sector", "bytes", "que_ms",
                          "lat_ms"}, r
        assert (r["comm"], r["disk"], r["bytes"]) == ("dd", disk, 8192), r
        assert r["sector"] >= 0 and 0 <= r["que_ms"] < 10_000 and 0 <= r["lat_ms"] < 10_000
    times = [r["time_s"] for r in writes]
    assert times == sorted(times) and times[0] >= 0
    assert all(ln.startswith("{") for ln in t.lines), t.stdout


@pytest.mark.parametrize("args", [["--duration", "-1"], ["--duration", "x"], ["-d"]])
def test_biosnoop_bad_input(args):
    bad_input("biosnoop", *args)


def cgroup2_dir():
    """A new cgroup v2 directory (no controller needed to hold processes)."""
    with open("/proc/mounts") as f:
        roots = [ln.split()[1] for ln in f if ln.split()[2] == "cgroup2"]
    if not roots:
        pytest.skip("no cgroup v2 hierarchy mounted")
    return tempfile.mkdtemp(prefix="pybcc-biosnoop-", dir=roots[0])


def test_biosnoop_cgroup_and_min_latency():
    """-c: only I/O created in the cgroup (dd moved into it; the test's own
    writes are outside); -m: nothing under the minimum."""
    from .loopdev import direct_io, loop_device
    cg = cgroup2_dir()
    try:
        with loop_device(16) as (dev, _):
            with RunningTool("biosnoop", "-c", cg, "-d", dev, ready="LAT(ms)") as t, \
                    RunningTool("biosnoop", "-m", "100000", "-d", dev, ready="LAT(ms)") as slow:
                direct_io(dev, range(10))                       # outside the cgroup
                dd = subprocess.Popen(["sh", "-c", f'echo $$ > {cg}/cgroup.procs && exec dd '
                                       f'if=/dev/zero of=/dev/{dev} bs=4k count=7 '
                                       'oflag=direct 2>/dev/null'])
                assert dd.wait() == 0
                t.wait_for(lambda ln: len([x for x in t.lines if f" {dd.pid} " in x]) >= 7)
    finally:
        os.rmdir(cg)
    rows = [ln.split() for ln in t.lines[1:]]
    assert len(rows) == 7 and all(r[2] == str(dd.pid) and r[1] == "dd" for r in rows), t.stdout
    assert slow.lines == [slow.header], slow.stdout


@pytest.mark.parametrize("args", [["-m", "-1"], ["-c", "/tmp"], ["-c", "/nonexistent"]])
def test_biosnoop_bad_min_and_cgroup(args):
    bad_input("biosnoop", *args)
