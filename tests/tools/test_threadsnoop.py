import subprocess
import uuid

import pytest

from .toolrun import RunningTool, bad_input

pytestmark = pytest.mark.usefixtures("root")

THREADS = 3

# Waits for a line on stdin, starts THREADS threads at a start routine whose
# name carries the test's marker, joins them, says "done", waits again.
C_PROG = r"""
#include <pthread.h>
#include <stdio.h>
static void *MARKER(void *arg) { return arg; }
int main(void) {
    char line[8];
    pthread_t t;
    fgets(line, sizeof(line), stdin);
    for (int i = 0; i < %d; i++) {
        pthread_create(&t, NULL, MARKER, NULL);
        pthread_join(t, NULL);
    }
    printf("done\n");
    fflush(stdout);
    fgets(line, sizeof(line), stdin);
    return 0;
}
""" % THREADS


@pytest.fixture
def spawner(tmp_path):
    """(the started program, its start routine's name)."""
    marker = f"pybcc_thread_{uuid.uuid4().hex[:8]}"
    src = tmp_path / "spawner.c"
    src.write_text(C_PROG.replace("MARKER", marker))
    exe = tmp_path / "spawner"
    subprocess.run(["gcc", "-O0", "-pthread", "-o", str(exe), str(src)], check=True)
    proc = subprocess.Popen([str(exe)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    yield proc, marker
    proc.kill()
    proc.wait()


def start_threads(proc):
    proc.stdin.write("go\n")
    proc.stdin.flush()
    assert proc.stdout.readline().strip() == "done"


def test_threadsnoop_names_the_start_routine(spawner):
    proc, marker = spawner
    with RunningTool("threadsnoop", ready="FUNC") as t:
        assert t.header.split() == ["TIME(ms)", "PID", "COMM", "FUNC"]
        start_threads(proc)
        t.wait_for(lambda ln: len([x for x in t.lines if marker in x]) == THREADS)
    mine = [ln.split() for ln in t.lines if marker in ln]
    assert len(mine) == THREADS, t.stdout
    assert all(f[1:] == [str(proc.pid), "spawner", marker] for f in mine), t.stdout
    assert all(f[0].isdigit() for f in mine)


def test_threadsnoop_pid_filter_json(spawner):
    proc, marker = spawner
    with RunningTool("threadsnoop", "-p", proc.pid, "--json", ready="FUNC") as t:
        start_threads(proc)
        t.wait_for(lambda ln: len([x for x in t.lines if marker in x]) == THREADS)
    records = t.json_records()
    assert len(records) == THREADS, t.stdout      # -p: nothing from other processes
    for r in records:
        assert r["pid"] == proc.pid and r["comm"] == "spawner" and r["func"] == marker, r
        assert isinstance(r["time_ms"], int)


@pytest.mark.parametrize("args", [("-p", "abc"), ("-p", "0")])
def test_threadsnoop_bad_input(args):
    bad_input("threadsnoop", *args)
