import subprocess
import sys
import uuid

import pytest

from .fileio import require_kprobes
from .loopdev import loop_device
from .toolrun import RunningTool, bad_input

pytestmark = pytest.mark.usefixtures("root")

# On "go", in directory argv[1]: unlink TAG-a (unlinkat relative to a dir
# fd), rename TAG-b to TAG-c, rmdir TAG-d/ (a trailing slash), fail to
# unlink TAG-missing, unlink a file whose name is 40 bytes long.
WORKER = r"""
import os, sys
d, tag = sys.argv[1], sys.argv[2]
for n in ("a", "b", "x" * 34):
    open(os.path.join(d, tag + "-" + n), "w").close()
os.mkdir(os.path.join(d, tag + "-d"))
os.write(1, b"ready\n")
sys.stdin.readline()
dfd = os.open(d, os.O_RDONLY)
os.unlink(tag + "-a", dir_fd=dfd)
os.rename(os.path.join(d, tag + "-b"), os.path.join(d, tag + "-c"))
os.rmdir(os.path.join(d, tag + "-d") + "/")
try:
    os.unlink(os.path.join(d, tag + "-missing"))
except FileNotFoundError:
    pass
os.unlink(os.path.join(d, tag + "-" + "x" * 34))
os.unlink(os.path.join(d, tag + "-c"))
os.write(1, b"done\n")
sys.stdin.readline()
"""


def run_worker(directory, *args):
    tag = "pg" + uuid.uuid4().hex[:6]
    child = subprocess.Popen([sys.executable, "-c", WORKER, directory, tag],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline() == "ready\n"
        with RunningTool("filegone", "-p", child.pid, *args, ready="COMM") as t:
            child.stdin.write("go\n")
            child.stdin.flush()
            assert child.stdout.readline() == "done\n"
            t.wait_for(lambda ln: f"DELETE {tag}-c" in ln or f'"{tag}-c"' in ln)
    finally:
        child.kill()
        child.wait()
    return t, tag, child.pid


def expected(tag):
    long_name = (tag + "-" + "x" * 34)[:32]
    return [("DELETE", f"{tag}-a"), ("RENAME", f"{tag}-b > {tag}-c"), ("DELETE", f"{tag}-d"),
            ("DELETE", long_name), ("DELETE", f"{tag}-c")]


def check_text(t, tag, pid):
    assert t.header.split() == ["TIME", "PID", "COMM", "ACTION", "FILE"]
    rows = [ln.split(None, 4) for ln in t.lines if tag in ln]
    assert [(r[3], r[4]) for r in rows] == expected(tag), t.stdout
    assert all(r[1] == str(pid) and r[2].startswith("python") for r in rows), rows


def test_filegone_deletes_and_renames(tmp_path):
    check_text(*run_worker(str(tmp_path)))


def test_filegone_on_ext4():
    with loop_device(fstype="ext4") as (_, mnt):
        check_text(*run_worker(mnt))


def test_filegone_json(tmp_path):
    t, tag, pid = run_worker(str(tmp_path), "--json")
    recs = [r for r in t.json_records() if tag in r["file"]]
    assert [(r["action"], r["file"]) for r in recs] == expected(tag), t.stdout
    assert set(recs[0]) == {"time", "pid", "comm", "action", "file"}
    assert all(r["pid"] == pid for r in recs)


@pytest.mark.vm
def test_filegone_kprobe_path(tmp_path, monkeypatch):
    require_kprobes()
    monkeypatch.setenv("PYBCC_DEBUG", "1")
    # a tmpfs of the test's own: on overlayfs (the VM's root) the overlay
    # calls vfs_rmdir/vfs_unlink on its upper layer itself, which hid that
    # 5.10's rmdir(2) skips vfs_rmdir's entry (lib/vfsprobes.py)
    subprocess.run(["mount", "-t", "tmpfs", "pybcc-filegone", str(tmp_path)], check=True)
    try:
        t, tag, pid = run_worker(str(tmp_path))
    finally:
        subprocess.run(["umount", str(tmp_path)])
    assert "kprobe vfs_rename" in t.stderr, t.stderr
    check_text(t, tag, pid)


@pytest.mark.parametrize("args", [["-p", "0"], ["-p", "x"], ["--duration", "-2"], ["extra"]])
def test_filegone_bad_input(args):
    bad_input("filegone", *args)
