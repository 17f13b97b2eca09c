import os
import shutil
import tempfile
import uuid

import pytest

from .toolrun import RunningTool, bad_input
from .test_biolatency import block_dir, direct_writes

pytestmark = pytest.mark.usefixtures("root")


def renamed_dd():
    """A copy of dd under a name of the test's own, so its rows are ours."""
    name = "dd" + uuid.uuid4().hex[:8]
    path = os.path.join(tempfile.mkdtemp(prefix="pybcc-biotop-"), name)
    shutil.copy(shutil.which("dd"), path)
    return name, path


def test_biotop_counts_direct_writes_of_a_process():
    directory, disk = block_dir()
    name, dd = renamed_dd()
    try:
        with RunningTool("biotop", "-C", "1", ready="Tracing") as t:
            direct_writes(directory, 100, "8k", dd=dd)
            t.wait_for(lambda ln: sum(int(x.split()[6]) for x in t.lines
                                      if f" {name} " in x and " W " in x) >= 100)
    finally:
        shutil.rmtree(os.path.dirname(dd))
    headers = [ln for ln in t.lines if ln.startswith("PID")]
    assert headers and headers[0].split() == ["PID", "COMM", "D", "MAJ", "MIN", "DISK", "I/O",
                                              "Kbytes", "AVGms"]
    assert any(" loadavg: " in ln for ln in t.lines)
    rows = [ln.split() for ln in t.lines if f" {name} " in ln and " W " in ln]
    assert sum(int(r[6]) for r in rows) == 100, t.stdout
    assert sum(float(r[7]) for r in rows) == 800.0, t.stdout
    st = os.stat(f"/dev/{disk}") if os.path.exists(f"/dev/{disk}") else None
    for pid, comm, d, maj, mi, dsk, io, kb, avg in rows:
        assert dsk == disk and 0 <= float(avg) < 10_000, rows
        if st:
            assert (int(maj), int(mi)) == (os.major(st.st_rdev), os.minor(st.st_rdev))


def test_biotop_json_and_count_stops():
    directory, disk = block_dir()
    name, dd = renamed_dd()
    try:
        with RunningTool("biotop", "--json", "1", "3", ready="Tracing") as t:
            direct_writes(directory, 40, "4k", dd=dd)
            t.proc.wait(30)
    finally:
        shutil.rmtree(os.path.dirname(dd))
    recs = t.json_records()
    assert len(recs) == 3, t.stdout
    mine = [r for rec in recs for r in rec["rows"] if r["comm"] == name and r["d"] == "W"]
    assert sum(r["io"] for r in mine) == 40, t.stdout
    assert sum(r["kbytes"] for r in mine) == 160.0
    assert set(mine[0]) == {"pid", "comm", "d", "maj", "min", "disk", "io", "kbytes", "avgms"}
    assert all(r["disk"] == disk for r in mine)


def test_biotop_pid_filter_excludes_others():
    directory, _ = block_dir()
    name, dd = renamed_dd()
    try:
        with RunningTool("biotop", "-p", "1", "1", ready="Tracing") as t:
            direct_writes(directory, 20, "4k", dd=dd)
            t.wait_for(lambda ln: ln.startswith("PID"))
            t.wait_for(lambda ln: False, timeout=1.5)
    finally:
        shutil.rmtree(os.path.dirname(dd))
    assert not any(f" {name} " in ln for ln in t.lines), t.stdout
    # without -C each report starts by clearing the screen
    assert any(ln.startswith("\033[H\033[J") and " loadavg: " in ln for ln in t.lines), t.lines


@pytest.mark.parametrize("args", [["0"], ["1", "x"], ["-r", "0"], ["-p", "-3"]])
def test_biotop_bad_input(args):
    bad_input("biotop", *args)
