"""uthreads against real threads: a C program's pthreads (it prints each
thread's id, which the tool must show) and a JVM's named threads."""
import re
import subprocess

import pytest

from .badinput import assert_one_line_error
from .runtimes import start_c, start_java, stop
from .toolrun import RunningTool, run_tool

THREADS_C = r"""
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/syscall.h>
void *pybcc_worker(void *arg) {
    printf("tid %ld\n", (long)syscall(SYS_gettid));
    fflush(stdout);
    return NULL;
}
int main(int argc, char **argv) {
    for (int i = 0; i < atoi(argv[1]); i++) {
        pthread_t t;
        pthread_create(&t, NULL, pybcc_worker, NULL);
        pthread_join(t, NULL);
        usleep(100000);
    }
    return 0;
}
"""


@pytest.fixture
def threads(tmp_path):
    child = start_c(tmp_path, "threads", THREADS_C, ["300"], ["-pthread"],
                    stdout=subprocess.PIPE, text=True)
    yield child
    stop(child)


def _tids(child):
    """Every thread id the program printed (it is stopped first)."""
    stop(child)
    return {int(ln.split()[1]) for ln in child.stdout.read().splitlines()}


def test_uthreads_pthreads_with_their_start_routine(threads):
    with RunningTool("uthreads", "-l", "none", threads.pid, ready="TIME") as t:
        t.wait_for(lambda ln: sum("pybcc_worker" in x for x in t.lines) >= 5, 20)
    printed = _tids(threads)        # the threads the program reported
    assert t.stdout.splitlines()[:2] == [
        f"Tracing thread events in process {threads.pid} (language: none)... Ctrl-C to quit.",
        "TIME     ID               TYPE     DESCRIPTION" + " " * 19]
    events = [ln.split() for ln in t.lines if "pybcc_worker" in ln]
    assert len(events) >= 5, t.stdout
    for fields in events:
        assert fields[2:] == ["pthread", "pybcc_worker", "[threads]"], fields
        assert int(fields[1]) in printed, (fields, sorted(printed)[:10])


def test_uthreads_json(threads):
    with RunningTool("uthreads", "--json", threads.pid, ready="TIME") as t:
        rec = t.wait_for_record(lambda r: r["type"] == "pthread", 20)
    printed = _tids(threads)
    assert rec is not None, t.stderr
    assert rec["description"] == "pybcc_worker [threads]" and rec["id"] in printed
    assert "(language: c)" in t.stderr        # detected: the program maps only libc


def test_javathreads_start_and_stop(tmp_path):
    child = start_java(tmp_path)      # a thread "pybcc-worker-N" every 20 ticks
    try:
        with RunningTool("javathreads", child.pid, ready="TIME") as t:
            stop_line = t.wait_for(lambda ln: re.search(r" stop +pybcc-worker-\d+", ln), 20)
    finally:
        stop(child)
    assert stop_line is not None, t.stdout + t.stderr
    name = stop_line.split()[-1]
    start_line = next(ln for ln in t.lines if ln.rstrip().endswith(name) and " start " in ln)
    ident = start_line.split()[1]
    assert re.fullmatch(r"R=\d+/N=(\d+)", ident) and stop_line.split()[1] == ident
    native = int(ident.split("N=")[1])
    # the JVM created it with pthread_create: the same thread id
    assert any(ln.split()[1:3] == [str(native), "pthread"] and "[libjvm.so]" in ln
               for ln in t.lines), t.stdout


def test_uthreads_bad_input():
    assert_one_line_error(run_tool("uthreads", "-l", "ruby", "1"), "invalid choice")
    assert_one_line_error(run_tool("uthreads", "0"), "no process")
