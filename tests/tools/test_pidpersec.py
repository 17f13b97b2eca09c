import re
import subprocess
import sys
import time

import pytest

from .toolrun import RunningTool, bad_input

pytestmark = pytest.mark.usefixtures("root")

FORKS = 40

# Waits for a line on stdin, forks FORKS children that exit at once, says "done".
FORKER = f"""
import os, sys
sys.stdin.readline()
for _ in range({FORKS}):
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
print("done", flush=True)
"""


def forker():
    return subprocess.Popen([sys.executable, "-c", FORKER], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)


def fork_now(proc):
    proc.stdin.write("go\n")
    proc.stdin.flush()
    assert proc.stdout.readline().strip() == "done"
    proc.wait()


def test_pidpersec_counts_this_processes_forks_text():
    proc = forker()
    with RunningTool("pidpersec", "-p", proc.pid, ready="Tracing") as t:
        fork_now(proc)
        time.sleep(2.3)     # two more one-second reports after the forks
    counts = [int(m.group(1)) for ln in t.lines
              if (m := re.fullmatch(r"\d\d:\d\d:\d\d: PIDs/sec: (\d+)", ln))]
    assert len(counts) >= 2, t.stdout
    assert sum(counts) == FORKS, t.stdout
    assert t.lines[0] == "Tracing... Ctrl-C to end."


def test_pidpersec_json_and_duration():
    proc = forker()
    with RunningTool("pidpersec", "-p", proc.pid, "--duration", "3", "--json",
                     ready="Tracing") as t:
        fork_now(proc)
        t.proc.wait(10)
    records = t.json_records()
    assert 2 <= len(records) <= 4, t.stdout
    assert sum(r["pids_per_sec"] for r in records) == FORKS, t.stdout
    assert set(records[0]) == {"ts", "pids_per_sec"}
    assert t.proc.returncode == 0


@pytest.mark.parametrize("args", [("-p", "abc"), ("--duration", "-1"), ("extra",)])
def test_pidpersec_bad_input(args):
    bad_input("pidpersec", *args)
