import os
import subprocess
import tempfile

import pytest

from .toolrun import RunningTool, bad_input

pytestmark = pytest.mark.usefixtures("root")


def mount_and_umount(*tool_args):
    """mountsnoop while the test mounts a tmpfs on its own directory, unmounts
    it, and fails a second unmount. Returns (tool, directory, mount's pid)."""
    target = tempfile.mkdtemp(prefix="pybcc-mountsnoop-")
    try:
        with RunningTool("mountsnoop", *tool_args, ready="COMM") as t:
            m = subprocess.run(["mount", "-t", "tmpfs", "-o", "nosuid,nodev,size=1m",
                                "pybcc-test", target])
            assert m.returncode == 0
            assert subprocess.run(["umount", target]).returncode == 0
            subprocess.run(["umount", "-l", target], stderr=subprocess.DEVNULL)
            t.wait_for(lambda ln: target in ln and "EINVAL" in ln)
    finally:
        subprocess.run(["umount", "-q", target], stderr=subprocess.DEVNULL)
        os.rmdir(target)
    return t, target


def test_mountsnoop_shows_mount_and_umounts():
    t, target = mount_and_umount("-P")
    assert t.header.split() == ["COMM", "PID", "TID", "PCOMM", "PPID", "MNT_NS", "CALL"]
    mine = [ln for ln in t.lines if target in ln]
    assert len(mine) == 3, t.stdout
    ns = str(os.stat("/proc/self/ns/mnt").st_ino)
    for ln in mine:
        comm, pid, tid, pcomm, ppid, mnt_ns = ln.split()[:6]
        assert pid == tid and mnt_ns == ns and ppid == str(os.getpid()), ln
        assert pcomm.startswith("python"), ln
    assert mine[0].split()[0] == "mount"
    assert mine[0].endswith(f'mount("pybcc-test", "{target}", "tmpfs", MS_NOSUID|MS_NODEV, '
                            f'"size=1m") = 0'), mine[0]
    assert mine[1].endswith(f'umount("{target}", 0x0) = 0'), mine[1]
    assert mine[2].endswith(f'umount("{target}", MNT_DETACH) = -EINVAL'), mine[2]


def test_mountsnoop_json():
    t, target = mount_and_umount("--json")
    recs = [r for r in t.json_records() if target in r["call"]]
    assert [r["call"].split("(")[0] for r in recs] == ["mount", "umount", "umount"], t.stdout
    assert set(recs[0]) == {"comm", "pid", "tid", "mnt_ns", "call"}
    assert recs[0]["mnt_ns"] == os.stat("/proc/self/ns/mnt").st_ino
    assert recs[2]["call"] == f'umount("{target}", MNT_DETACH) = -EINVAL'


@pytest.mark.parametrize("args", [["--duration", "x"], ["-Z"], ["--mntnsmap"]])
def test_mountsnoop_bad_input(args):
    bad_input("mountsnoop", *args)
