import os
import subprocess
import sys
import tempfile

import pytest

from .toolrun import RunningTool, bad_input

pytestmark = pytest.mark.usefixtures("root")

# Mounts a tmpfs on argv[2] with the old mount(2) (argv[1] == "old") or the
# new API (fsopen, fsconfig, fsmount, move_mount), whichever mount(8) uses;
# then unmounts it and fails a second (lazy) unmount.
MOUNTER = r"""
import ctypes, os, sys
from pybcc.kernel.syscall_names import syscall_number as nr
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
api, target = sys.argv[1], sys.argv[2].encode()
MS_NOSUID, MS_NODEV = 2, 4
if api == "old":
    assert libc.mount(b"pybcc-test", target, b"tmpfs", MS_NOSUID | MS_NODEV, b"size=1m") == 0
else:
    fd = libc.syscall(nr("fsopen"), b"tmpfs", 1)
    assert fd >= 0
    assert libc.syscall(nr("fsconfig"), fd, 1, b"size", b"1m", 0) == 0
    assert libc.syscall(nr("fsconfig"), fd, 6, None, None, 0) == 0
    mfd = libc.syscall(nr("fsmount"), fd, 1, 2 | 4)
    assert mfd >= 0
    assert libc.syscall(nr("move_mount"), mfd, b"", -100, target, 4) == 0
    os.close(mfd)
    os.close(fd)
assert libc.umount2(target, 0) == 0
assert libc.umount2(target, 2) == -1
"""


def traced(command, *tool_args):
    """mountsnoop while ``command(target)`` runs; returns (tool, target)."""
    target = tempfile.mkdtemp(prefix="pybcc-mountsnoop-")
    try:
        with RunningTool("mountsnoop", *tool_args, ready="COMM") as t:
            command(target)
            t.wait_for(lambda ln: target in ln and "EINVAL" in ln)
    finally:
        subprocess.run(["umount", "-q", target], stderr=subprocess.DEVNULL)
        os.rmdir(target)
    return t, target


def mounter(api):
    return lambda target: subprocess.run([sys.executable, "-c", MOUNTER, api, target],
                                         check=True, cwd=os.getcwd())


def test_mountsnoop_shows_mount_and_umounts():
    t, target = traced(mounter("old"), "-P")
    assert t.header.split() == ["COMM", "PID", "TID", "PCOMM", "PPID", "MNT_NS", "CALL"]
    mine = [ln for ln in t.lines if target in ln]
    assert len(mine) == 3, t.stdout
    ns = str(os.stat("/proc/self/ns/mnt").st_ino)
    for ln in mine:
        comm, pid, tid, pcomm, ppid, mnt_ns = ln.split()[:6]
        assert pid == tid and mnt_ns == ns and ppid == str(os.getpid()), ln
        assert comm.startswith("python") and pcomm.startswith("python"), ln
    assert mine[0].endswith(f'mount("pybcc-test", "{target}", "tmpfs", MS_NOSUID|MS_NODEV, '
                            f'"size=1m") = 0'), mine[0]
    assert mine[1].endswith(f'umount("{target}", 0x0) = 0'), mine[1]
    assert mine[2].endswith(f'umount("{target}", MNT_DETACH) = -EINVAL'), mine[2]


def test_mountsnoop_shows_the_new_mount_api():
    t, target = traced(mounter("new"))
    pid = next(ln.split()[1] for ln in t.lines if 'move_mount(' in ln and target in ln)
    calls = [ln.split(None, 4)[4] for ln in t.lines if ln.split()[1:2] == [pid]]
    fd, mfd = calls[0].split(" = ")[1], calls[3].split(" = ")[1]
    assert calls[:7] == [
        f'fsopen("tmpfs", FSOPEN_CLOEXEC) = {fd}',
        f'fsconfig({fd}, FSCONFIG_SET_STRING, "size", "1m", 0) = 0',
        f'fsconfig({fd}, FSCONFIG_CMD_CREATE, "", "", 0) = 0',
        f'fsmount({fd}, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID|MOUNT_ATTR_NODEV) = {mfd}',
        f'move_mount({mfd}, "", AT_FDCWD, "{target}", MOVE_MOUNT_F_EMPTY_PATH) = 0',
        f'umount("{target}", 0x0) = 0',
        f'umount("{target}", MNT_DETACH) = -EINVAL'], t.stdout
    assert int(fd) >= 3 and int(mfd) >= 3


def test_mountsnoop_sees_mount8_with_either_api():
    """mount(8) uses mount(2) (util-linux < 2.39) or the new API (2.39+)."""
    def mount8(target):
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "pybcc-test", target],
                       check=True)
        subprocess.run(["umount", target], check=True)
        subprocess.run(["umount", "-l", target], stderr=subprocess.DEVNULL)
    t, target = traced(mount8)
    mine = [ln for ln in t.lines if target in ln]
    assert any(f'mount("pybcc-test", "{target}", "tmpfs", ' in ln and ln.endswith(") = 0")
               or f'"{target}", MOVE_MOUNT_F_EMPTY_PATH) = 0' in ln for ln in mine), t.stdout
    assert mine[-1].endswith(f'umount("{target}", MNT_DETACH) = -EINVAL'), t.stdout


def test_mountsnoop_json():
    t, target = traced(mounter("old"), "--json")
    recs = [r for r in t.json_records() if target in r["call"]]
    assert [r["call"].split("(")[0] for r in recs] == ["mount", "umount", "umount"], t.stdout
    assert set(recs[0]) == {"comm", "pid", "tid", "mnt_ns", "call"}
    assert recs[0]["mnt_ns"] == os.stat("/proc/self/ns/mnt").st_ino
    assert recs[2]["call"] == f'umount("{target}", MNT_DETACH) = -EINVAL'


@pytest.mark.parametrize("args", [["--duration", "x"], ["-Z"], ["--mntnsmap"]])
def test_mountsnoop_bad_input(args):
    bad_input("mountsnoop", *args)
