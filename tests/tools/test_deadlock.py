import json
import re
import subprocess

import pytest

from .cprog import LOCK_INVERSION_C, MUTEX_HOLDERS_C, build
from .toolrun import RunningTool, bad_input, run_tool

pytestmark = pytest.mark.usefixtures("root")


@pytest.fixture(scope="module")
def programs(tmp_path_factory):
    d = tmp_path_factory.mktemp("deadlock")
    return (build(d, "inversion", LOCK_INVERSION_C, libs=("-pthread",)),
            build(d, "holders", MUTEX_HOLDERS_C, libs=("-pthread",)))


def traced(program, *args, argv=(), wait=4):
    """deadlock CHILD ARGS while the child runs: returns (tool, child pid,
    the child's first output line)."""
    child = subprocess.Popen([program, *argv], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             text=True)
    try:
        with RunningTool("deadlock", child.pid, *args, ready="Hit Ctrl-C to end.") as t:
            child.stdin.write("go\n")
            child.stdin.flush()
            printed = child.stdout.readline().split()
            # the tool looks every second, reports, and exits
            t.proc.wait(wait + 10)
    finally:
        child.stdin.close()
        child.wait()
    return t, child.pid, printed


def test_deadlock_reports_the_cycle(programs):
    """Thread 1 takes A then B, thread 2 B then A: the cycle A => B => A,
    with the place of each acquisition and where each thread was created."""
    t, pid, (a, b) = traced(programs[0])
    assert t.proc.returncode == 1, t.stdout + t.stderr       # bcc exits 1 on a cycle
    a, b = int(a), int(b)
    names = {a: "pybcc_mutex_a 0x%016x" % a, b: "pybcc_mutex_b 0x%016x" % b}
    assert "Potential Deadlock Detected!" in t.lines
    cycle = next(ln for ln in t.lines if ln.startswith("Cycle in lock order graph: "))
    m = re.fullmatch(r"Cycle in lock order graph: Mutex M0 \((.*)\) => Mutex M1 \((.*)\) => "
                     r"Mutex M0 \((.*)\)", cycle)
    assert m and {m[1], m[2]} == set(names.values()) and m[3] == m[1], cycle
    acquired = [ln for ln in t.lines if " acquired here while holding " in ln]
    assert len(acquired) == 2, t.stdout
    # taking A while holding B happened in b_then_a, and the other way round
    for ln in acquired:
        got, held = re.findall(r"\((pybcc_mutex_\w)", ln)
        i = t.lines.index(ln)
        frames = t.lines[i + 1:t.lines.index("", i)]
        assert frames[0].endswith(" pthread_mutex_lock"), frames
        order = f"{held[-1]}_then_{got[-1]}"
        assert any(f.endswith(" " + order) for f in frames), (ln, frames)
    created = [ln for ln in t.lines if re.match(r"Thread \d+ created by Thread %d \(" % pid, ln)]
    assert len(created) == 2, t.stdout


def test_deadlock_json_and_dump_graph(programs, tmp_path):
    graph = tmp_path / "graph.json"
    t, pid, (a, b) = traced(programs[0], "--json", "--dump-graph", graph)
    (obj,) = t.json_records()
    assert {c["address"] for c in obj["cycle"]} == {int(a), int(b)}, obj
    assert {c["symbol"] for c in obj["cycle"]} == {"pybcc_mutex_a", "pybcc_mutex_b"}
    assert {e["comm"] for e in obj["edges"]} == {"inversion"} and len(obj["edges"]) == 2
    assert all(th["parent"] == pid for th in obj["threads"]), obj
    data = json.loads(graph.read_text())
    assert {n["id"] for n in data["nodes"]} == {int(a), int(b)} and len(data["links"]) == 2


def test_deadlock_no_cycle_with_one_mutex(programs):
    """Threads taking one mutex in turn: no edge, no cycle (--duration ends it)."""
    child = subprocess.Popen([programs[1], "2", "5"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    try:
        child.stdout.readline()
        with RunningTool("deadlock", child.pid, "--verbose", "--duration", "2",
                         ready="Hit Ctrl-C to end.") as t:
            child.stdin.write("go\n")
            child.stdin.flush()
            t.proc.wait(20)
    finally:
        child.stdin.close()
        child.wait()
    assert t.proc.returncode == 0 and "Potential Deadlock" not in t.stdout, t.stdout
    assert "Mutexes: 0, Edges: 0" in t.lines, t.stdout


def test_deadlock_bad_input(programs):
    bad_input("deadlock", "999999999")
    child = subprocess.Popen([programs[1], "1", "1"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    try:
        bad_input("deadlock", child.pid, "--lock-symbols", "no_such_lock_function")
        bad_input("deadlock", child.pid, "--binary", "/nonexistent/lib.so")
        r = run_tool("deadlock", child.pid, "--binary", "/bin/true")
        assert r.returncode == 2 and "has no symbol pthread_mutex_lock" in r.stderr
    finally:
        child.stdin.close()
        child.wait()
