import re
import subprocess

import pytest

from .cprog import MUTEX_HOLDERS_C, build
from .toolrun import RunningTool, bad_input

pytestmark = pytest.mark.usefixtures("root")

HEAD = re.compile(r"^(\S+)\[(\d+)\] lock (0x[0-9a-f]+) contended (\d+) times, (\d+) avg (\w+) "
                  r"\[max: (\d+) \w+, min (\d+) \w+\]$")


@pytest.fixture(scope="module")
def holders(tmp_path_factory):
    return build(tmp_path_factory.mktemp("mutexes"), "mutexes", MUTEX_HOLDERS_C,
                 libs=("-pthread",))


def contend(holders, *args):
    """futexctn -p CHILD ARGS while 4 threads take one pthread mutex 20
    times each, holding it 2 ms; returns (tool, child pid, mutex address).
    "LOCK" in ARGS is replaced by the mutex's address."""
    child = subprocess.Popen([holders, "4", "20"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             text=True)
    lock = child.stdout.readline().strip()
    args = [lock if a == "LOCK" else a for a in args]
    try:
        with RunningTool("futexctn", "-p", child.pid, *args, ready="hit ctrl-c to exit") as t:
            child.stdin.write("go\n")
            child.stdin.flush()
            # 80 holds of 2 ms: done in ~0.2 s; the report symbolizes while the child lives
            t.wait_for(lambda ln: False, 1.5)
    finally:
        child.stdin.close()
        child.wait()
    assert t.proc.returncode == 0, t.stderr
    return t, child.pid, lock


def test_futexctn_pthread_mutex_per_thread_with_stack(holders):
    t, pid, lock = contend(holders)
    heads = [(i, HEAD.match(ln)) for i, ln in enumerate(t.lines) if HEAD.match(ln)]
    assert heads, t.stdout
    ours = [(i, m) for i, m in heads if m[3] == lock]
    assert ours and all(m[1] == "mutexes" and m[6] == "usecs" for _, m in ours), t.stdout
    # a wait lasts the rest of a 2 ms hold, or more when others were first
    assert all(int(m[8]) <= int(m[5]) <= int(m[7]) and int(m[5]) >= 1000
               for _, m in ours), t.stdout
    assert sum(int(m[4]) for _, m in ours) >= 20, t.stdout
    tids = {int(m[2]) for _, m in ours}
    assert len(tids) >= 2 and pid not in tids, t.stdout      # worker threads, not main
    i = ours[0][0]
    assert t.lines[i + 1] == "    -", t.stdout
    stack = t.lines[i + 2:t.lines.index("    -", i + 2)]
    assert "worker" in [ln.strip() for ln in stack], t.stdout


def test_futexctn_summary_json_lock_filter(holders):
    """-s: per process, no stacks; -l the lock; --json, ms."""
    t, pid, lock = contend(holders, "--json", "-s", "-m", "-l", "LOCK")
    (obj,) = t.json_records()
    (e,) = obj["locks"]
    assert e["lock"] == lock and e["pid"] == pid, e         # -s: the process, not the thread
    assert e["stack"] is None and e["unit"] == "msecs", e
    assert e["contended"] >= 20 and sum(b["count"] for b in e["buckets"]) == e["contended"], e
    assert e["min"] <= e["avg"] <= e["max"] and e["max"] >= 2, e


@pytest.mark.parametrize("args", [["-l", "zz"], ["-p", "999999999"], ["-t", "0"],
                                  ["--perf-max-stack-depth", "500"], ["1", "0"]])
def test_futexctn_bad_input_is_one_line(args):
    bad_input("futexctn", *args)
