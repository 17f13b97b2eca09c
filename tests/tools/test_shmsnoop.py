import subprocess
import sys

import pytest

from .toolrun import RunningTool, bad_input

pytestmark = pytest.mark.usefixtures("root")

# On a line from stdin: a private segment's life, then a failing shmat;
# prints the segment's id and address.
WORKER = r"""
import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
sys.stdin.readline()
shmid = libc.shmget(0, 8192, 0o1000 | 0o600)
addr = libc.shmat(shmid, None, 0o10000)
libc.shmdt(ctypes.c_void_p(addr))
libc.shmctl(shmid, 0, None)
libc.shmat(shmid, None, 0)
print(shmid, addr, flush=True)
"""


def run_worker(*tool_args, seen=True):
    child = subprocess.Popen([sys.executable, "-c", WORKER], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    try:
        with RunningTool("shmsnoop", "-p", child.pid, *tool_args, ready="ARGs") as t:
            child.stdin.write("go\n")
            child.stdin.flush()
            shmid, addr = map(int, child.stdout.readline().split())
            # the last call, the failing shmat (-EINVAL as bcc's unsigned RET)
            t.wait_for(lambda ln: "ffffffffffffffea" in ln or "18446744073709551594" in ln,
                       timeout=15 if seen else 1)
    finally:
        child.kill()
        child.wait()
    return t, child.pid, shmid, addr


def test_shmsnoop_shows_a_segment_life():
    t, pid, shmid, addr = run_worker("-T")
    assert t.header.split() == ["TIME(s)", "PID", "COMM", "SYS", "RET", "ARGs"]
    rows = [ln for ln in t.lines if ln != t.header]
    assert len(rows) == 5, t.stdout
    f = [r.split(None, 5) for r in rows]
    assert [x[3] for x in f] == ["SHMGET", "SHMAT", "SHMDT", "SHMCTL", "SHMAT"]
    assert all(x[1] == str(pid) for x in f)
    assert float(f[0][0]) == 0.0 and float(f[4][0]) > 0
    assert [x[4] for x in f] == ["%x" % shmid, "%x" % addr, "0", "0", "ffffffffffffffea"]
    assert f[0][5] == "key: 0x0, size: 8192, shmflg: 0x380 (IPC_CREAT|0600)"
    assert f[1][5] == "shmid: 0x%x, shmaddr: 0x0, shmflg: 0x1000 (SHM_RDONLY)" % shmid
    assert f[2][5] == "shmaddr: 0x%x" % addr
    assert f[3][5] == "shmid: 0x%x, cmd: 0 (IPC_RMID), buf: 0x0" % shmid
    assert f[4][5] == "shmid: 0x%x, shmaddr: 0x0, shmflg: 0x0" % shmid


def test_shmsnoop_json_and_name_filter():
    t, pid, shmid, addr = run_worker("--json", "-n", "python")
    recs = t.json_records()
    assert [r["sys"] for r in recs] == ["SHMGET", "SHMAT", "SHMDT", "SHMCTL", "SHMAT"]
    assert set(recs[0]) == {"pid", "comm", "sys", "ret", "args"}
    assert recs[0]["ret"] == shmid and recs[1]["ret"] == addr and recs[0]["pid"] == pid


def test_shmsnoop_name_filter_hides_others():
    t, *_ = run_worker("-n", "nosuchcomm", seen=False)
    assert t.lines == [t.header], t.stdout


@pytest.mark.parametrize("args", [["-p", "x"], ["-d", "0"], ["-t"]])
def test_shmsnoop_bad_input(args):
    bad_input("shmsnoop", *args)
