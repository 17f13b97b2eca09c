import subprocess
import sys
import uuid

import pytest

from .loopdev import loop_device
from .toolrun import RunningTool, bad_input

pytestmark = pytest.mark.usefixtures("root")

# A child that, on a line from stdin, creates files in directory argv[1] and
# deletes them after known times: A lives ~0.3 s (open O_CREAT, unlinkat by
# a relative name), B ~0.6 s (creat(), unlink by full path); C existed before
# (opened without creating it) and must not be reported.
WORKER = r"""
import ctypes, os, sys, time
d, tag = sys.argv[1], sys.argv[2]
libc = ctypes.CDLL(None, use_errno=True)
c = os.path.join(d, tag + "-C"); open(c, "w").close()
os.write(1, b"ready\n")
sys.stdin.readline()
os.close(os.open(os.path.join(d, tag + "-A"), os.O_CREAT | os.O_WRONLY, 0o600))
os.close(libc.creat(os.path.join(d, tag + "-B").encode(), 0o600))
os.close(os.open(c, os.O_CREAT | os.O_WRONLY))
time.sleep(0.3)
dfd = os.open(d, os.O_RDONLY)
os.unlink(tag + "-A", dir_fd=dfd)
time.sleep(0.3)
libc.unlink(os.path.join(d, tag + "-B").encode())
os.unlink(c)
os.write(1, b"done\n")
"""


def run_worker(directory, *tool_args):
    tag = "pybcc" + uuid.uuid4().hex[:8]
    child = subprocess.Popen([sys.executable, "-c", WORKER, directory, tag],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline() == "ready\n"   # C exists before tracing starts
        with RunningTool("filelife", "-p", child.pid, *tool_args, ready="AGE(s)") as t:
            child.stdin.write("go\n")
            child.stdin.flush()
            assert child.stdout.readline() == "done\n"
            t.wait_for(lambda ln: f"{tag}-B" in ln)
    finally:
        child.kill()
        child.wait()
    return t, tag, child.pid


def check_text(t, tag, pid):
    assert t.header.split() == ["TIME", "PID", "COMM", "AGE(s)", "FILE"]
    rows = {ln.split()[-1]: ln.split() for ln in t.lines if tag in ln}
    assert set(rows) == {f"{tag}-A", f"{tag}-B"}, t.stdout
    for name, low, high in ((f"{tag}-A", 0.28, 0.5), (f"{tag}-B", 0.58, 0.9)):
        _, p, comm, age, _ = rows[name]
        assert p == str(pid) and comm.startswith("python"), rows[name]
        assert low <= float(age) <= high, rows[name]


def test_filelife_ages_of_files_the_test_makes(tmp_path):
    check_text(*run_worker(str(tmp_path)))


def test_filelife_on_ext4_loop_mount():
    with loop_device(fstype="ext4") as (_, mnt):
        check_text(*run_worker(mnt))


def test_filelife_json(tmp_path):
    t, tag, pid = run_worker(str(tmp_path), "--json")
    recs = [r for r in t.json_records() if tag in r["file"]]
    assert [r["file"] for r in recs] == [f"{tag}-A", f"{tag}-B"], t.stdout
    assert set(recs[0]) == {"time", "pid", "comm", "age_s", "file"}
    assert all(r["pid"] == pid for r in recs)
    assert 0.28 <= recs[0]["age_s"] <= 0.5 and 0.58 <= recs[1]["age_s"] <= 0.9, recs


@pytest.mark.parametrize("args", [["-p", "0"], ["-p", "x"], ["--duration", "-2"]])
def test_filelife_bad_input(args):
    bad_input("filelife", *args)
