import os
import subprocess
import sys
import time

import pytest

from .toolrun import RunningTool, bad_input

pytestmark = pytest.mark.usefixtures("root")

# Passes a temporary file's fd and a pipe's over a unix socket pair, prints
# what the tool should show, and stays alive (its fds must stay readable in
# /proc) until told to go.
PASSER = r"""
import array, os, socket, sys, tempfile
a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
f = tempfile.NamedTemporaryFile(prefix="pybcc-sofd-")
r, w = os.pipe()
a.sendmsg([b"x"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [f.fileno(), r]))])
msg, anc, flags, addr = b.recvmsg(10, socket.CMSG_SPACE(8 * 4))
got = array.array("i")
got.frombytes(anc[0][2])
print(os.getpid(), a.fileno(), os.readlink(f"/proc/self/fd/{a.fileno()}"), b.fileno(),
      os.readlink(f"/proc/self/fd/{b.fileno()}"), f.fileno(), f.name, r,
      os.readlink(f"/proc/self/fd/{r}"), *got, flush=True)
sys.stdin.readline()
"""


def pass_fds(tool, shown=True):
    """Run PASSER while ``tool`` shows its RECV lines (when they are ``shown``);
    returns what PASSER printed."""
    p = subprocess.Popen([sys.executable, "-c", PASSER], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
    try:
        out = p.stdout.readline().split()
        if shown:
            tool.wait_for(lambda ln: "RECV" in ln and out[0] in ln.split()
                          or '"RECV"' in ln and out[0] in ln, timeout=10)
        else:
            time.sleep(0.5)
    finally:
        p.communicate("\n", timeout=10)
    return out


def test_sofdsnoop_shows_sent_and_received_fds():
    with RunningTool("sofdsnoop", "-T", ready="NAME") as t:
        assert t.header.split() == ["TIME(s)", "ACTION", "TID", "COMM", "SOCKET", "FD", "NAME"]
        tid, sfd, sname, rfd, rname, ffd, fname, pfd, pname, got1, got2 = pass_fds(t)
        t.wait_for(lambda ln: ln.split()[1:3] == ["RECV", tid] and ln.split()[-1] == got2)
    mine = [ln.split()[1:] for ln in t.lines if ln.split()[2:3] == [tid]]
    assert mine == [
        ["SEND", tid, "python3", f"{sfd}:{sname}", ffd, fname],
        ["SEND", tid, "python3", f"{sfd}:{sname}", pfd, pname],
        ["RECV", tid, "python3", f"{rfd}:{rname}", got1],
        ["RECV", tid, "python3", f"{rfd}:{rname}", got2],
    ], t.stdout
    assert t.stop() == 0, t.stderr


def test_sofdsnoop_json_and_filters():
    with RunningTool("sofdsnoop", "--json", "-n", "python", ready="NAME") as t:
        tid, sfd, sname, rfd, rname, ffd, fname, pfd, pname, got1, got2 = pass_fds(t)
    recs = [r for r in t.json_records() if r["tid"] == int(tid)]
    assert recs[0] == {"action": "SEND", "tid": int(tid), "comm": "python3",
                       "socket": f"{sfd}:{sname}", "fd": int(ffd), "name": fname}, recs
    assert [(r["action"], r["fd"]) for r in recs] == [
        ("SEND", int(ffd)), ("SEND", int(pfd)), ("RECV", int(got1)), ("RECV", int(got2))], recs

    for args in (["-n", "no-such-command"], ["-p", os.getpid()], ["-t", os.getpid()]):
        with RunningTool("sofdsnoop", "--json", *args, ready="NAME") as t:
            tid = pass_fds(t, shown=False)[0]
        assert not [r for r in t.json_records() if r["tid"] == int(tid)], (args, t.stdout)


def test_sofdsnoop_duration():
    r = subprocess.run([sys.executable, "-m", "pybcc", "sofdsnoop", "-d", "1"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout.startswith("ACTION"), r.stderr


@pytest.mark.parametrize("args", [["-p", "x"], ["-t", "0"], ["-d", "-1"], ["--bogus"]])
def test_sofdsnoop_bad_input(args):
    bad_input("sofdsnoop", *args)
