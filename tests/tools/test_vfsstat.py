import subprocess
import sys

import pytest

from .fileio import require_kprobes
from .toolrun import RunningTool, bad_input

pytestmark = pytest.mark.usefixtures("root")

# A child that, on a line from stdin, makes a known number of each call,
# says "done" and waits (one more read) to be killed.
WORKER = r"""
import os, stat, sys, tempfile
d = tempfile.mkdtemp(prefix="pybcc-vfsstat-", dir=sys.argv[1] if len(sys.argv) > 1 else None)
zero = os.open("/dev/zero", os.O_RDONLY)
os.write(1, b"ready\n")
sys.stdin.readline()
for _ in range(30): os.read(zero, 16)
fd = os.open(os.path.join(d, "f"), os.O_WRONLY | os.O_CREAT)
for i in range(20): os.pwrite(fd, b"x", i)
for _ in range(5): os.fsync(fd)
for _ in range(3): os.fdatasync(fd)
for _ in range(9): os.close(os.open("/dev/null", os.O_RDONLY))
for _ in range(5):
    try: os.open(os.path.join(d, "missing"), os.O_RDONLY)
    except FileNotFoundError: pass
for i in range(4): os.mknod(os.path.join(d, "reg%d" % i), 0o600 | stat.S_IFREG)
for i in range(2): os.mkfifo(os.path.join(d, "fifo%d" % i))
for name in os.listdir(d): os.unlink(os.path.join(d, name))
for i in range(3): os.mkdir(os.path.join(d, "sub%d" % i))
for i in range(3): os.rmdir(os.path.join(d, "sub%d" % i))
os.rmdir(d)
os.write(1, b"done\n")
sys.stdin.readline()
"""
# reads: 30 + the last readline; writes: 20 pwrite + "done"; opens: 1 + 9 + listdir;
# creates: 4 regular mknods (fifos are not vfs_create); unlinks: 4 + 2 + f;
# rmdirs: 3 + the directory
EXPECTED = {"read": 31, "write": 21, "fsync": 8, "open": 11, "create": 4, "unlink": 7,
            "mkdir": 3, "rmdir": 4}


def run_worker(*tool_args, directory=None):
    child = subprocess.Popen([sys.executable, "-c", WORKER] + ([directory] if directory else []),
                             stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    try:
        # the child is set up and blocked in read() before tracing starts
        assert child.stdout.readline() == "ready\n"
        with RunningTool("vfsstat", "-p", child.pid, *tool_args, "1", ready="READ/s") as t:
            child.stdin.write("go\n")
            child.stdin.flush()
            assert child.stdout.readline() == "done\n"
            n = len(t.lines)
            t.wait_for(lambda ln: len(t.lines) >= n + 2)   # two more reports
    finally:
        child.kill()
        child.wait()
    return t


def test_vfsstat_counts_a_process_calls():
    t = run_worker()
    head = t.header.split()
    assert head == ["TIME", "READ/s", "WRITE/s", "FSYNC/s", "OPEN/s", "CREATE/s", "UNLINK/s",
                    "MKDIR/s", "RMDIR/s"]
    rows = [ln.split()[1:] for ln in t.lines if ln != t.header]
    assert all(ln[8:10] == ": " for ln in t.lines if ln != t.header), t.stdout
    sums = [sum(int(r[i]) for r in rows) for i in range(8)]
    assert dict(zip(EXPECTED, sums)) == EXPECTED, t.stdout


def test_vfsstat_json():
    t = run_worker("--json")
    recs = t.json_records()
    assert set(recs[0]) == {"ts", "time", *EXPECTED}
    assert {k: sum(r[k] for r in recs) for k in EXPECTED} == EXPECTED, t.stdout


@pytest.mark.vm
def test_vfsstat_kprobe_path(monkeypatch, tmp_path):
    require_kprobes()
    monkeypatch.setenv("PYBCC_DEBUG", "1")
    # a tmpfs of the test's own: on overlayfs (the VM's root) every vfs_* call
    # on a file runs twice, once for the overlay and once for the upper layer
    subprocess.run(["mount", "-t", "tmpfs", "pybcc-vfsstat", str(tmp_path)], check=True)
    try:
        t = run_worker(directory=str(tmp_path))
    finally:
        subprocess.run(["umount", str(tmp_path)])
    assert "kprobe vfs_read" in t.stderr, t.stderr
    rows = [ln.split()[1:] for ln in t.lines if ln != t.header]
    got = dict(zip(EXPECTED, (sum(int(r[i]) for r in rows) for i in range(8))))
    # measured on 6.1 (tmpfs): the 5 fsync() reach the vfs_fsync_range kprobe,
    # the 3 fdatasync() did not (not explained yet)
    assert 5 <= got.pop("fsync") <= 8, t.stdout
    assert got == {k: v for k, v in EXPECTED.items() if k != "fsync"}, t.stdout


@pytest.mark.parametrize("args", [["0"], ["1", "0"], ["-p", "x"], ["x"]])
def test_vfsstat_bad_input(args):
    bad_input("vfsstat", *args)
