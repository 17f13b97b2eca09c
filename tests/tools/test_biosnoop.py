import os
import subprocess
import tempfile

import pytest

from .toolrun import RunningTool
from .test_biolatency import block_dir

pytestmark = pytest.mark.usefixtures("root")


def test_biosnoop_shows_direct_writes_of_dd():
    directory, disk = block_dir()
    fd, path = tempfile.mkstemp(dir=directory, prefix="pybcc-biosnoop-")
    os.close(fd)
    try:
        with RunningTool("biosnoop", "-Q", "-P", "-d", disk, ready="LAT(ms)") as t:
            assert t.header.split() == ["TIME(s)", "COMM", "PID", "DISK", "T", "SECTOR",
                                           "BYTES", "P", "QUE(ms)", "LAT(ms)"]
            dd = subprocess.Popen(["dd", "if=/dev/zero", f"of={path}", "bs=16k", "count=20",
                                   "oflag=direct"], stderr=subprocess.DEVNULL)
            assert dd.wait() == 0
            pid = str(dd.pid)
            t.wait_for(lambda ln: len([x for x in t.lines if f" {pid} " in x and " W " in x]) >= 20)
    finally:
        os.unlink(path)
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
    assert r.returncode == 1 and "no such disk 'nosuchdisk0'" in r.stderr
