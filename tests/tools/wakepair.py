"""A test program in which one thread wakes another through a pipe at known
intervals (offwaketime, wakeuptime): after a line on stdin, thread
"wk_target" reads ROUNDS bytes from a pipe, and the main thread "wk_waker"
writes each after sleeping MS milliseconds. So wk_target blocks about
ROUNDS * MS ms in pipe reads (the writer sleeps only once the reader is
asleep), every time woken by wk_waker's pipe writes.
The reads and writes are system calls made right in the functions target()
and main(), so that those are the innermost user frames. The program stays
until killed, so that the tools can name its user frames. It measures the
time its reads took (CLOCK_MONOTONIC around each) and prints it when done:
the tools' blocked time lies inside those reads, so that is its upper bound
however long a busy machine makes the waits."""
import shutil
import subprocess

import pytest

from .toolrun import RunningTool

ROUNDS, MS = 10, 50
EXPECTED_US = ROUNDS * MS * 1000

SOURCE = r"""
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

static int fds[2], rounds;
static volatile int target_tid;
static long long read_us;      /* wall time inside the reads, summed */

/* read(2) or write(2) made here, not in libc (no frame pointers there) */
static inline __attribute__((always_inline)) long rw(long nr, int fd, char *buf)
{
#if defined(__x86_64__)
    long ret;
    __asm__ volatile ("syscall" : "=a"(ret) : "a"(nr), "D"(fd), "S"(buf), "d"(1L)
                      : "rcx", "r11", "memory");
    return ret;
#else
    return nr ? write(fd, buf, 1) : read(fd, buf, 1);
#endif
}

static void *target(void *arg)
{
    struct timespec a, b;
    char c;
    prctl(PR_SET_NAME, "wk_target");
    target_tid = syscall(SYS_gettid);
    for (int i = 0; i < rounds; i++) {
        clock_gettime(CLOCK_MONOTONIC, &a);
        if (rw(0, fds[0], &c) != 1)
            exit(1);
        clock_gettime(CLOCK_MONOTONIC, &b);
        read_us += (b.tv_sec - a.tv_sec) * 1000000LL + (b.tv_nsec - a.tv_nsec) / 1000;
    }
    return arg;
}

/* Until wk_target sleeps (in its read): on a busy machine it may not have
 * reached the read yet, and would then find the byte without blocking. */
static void wait_until_blocked(void)
{
    char path[64], stat[256], *state;
    FILE *f;

    while (!target_tid)
        usleep(100);
    snprintf(path, sizeof(path), "/proc/self/task/%d/stat", target_tid);
    for (;;) {
        f = fopen(path, "r");
        stat[0] = 0;
        if (f) {
            if (!fgets(stat, sizeof(stat), f))
                stat[0] = 0;
            fclose(f);
        }
        state = strrchr(stat, ')');
        if (state && state[1] == ' ' && state[2] == 'S')
            return;
        usleep(100);
    }
}

int main(int argc, char **argv)
{
    struct timespec gap;
    pthread_t t;
    char line[16];
    int ms;

    rounds = atoi(argv[1]);
    ms = atoi(argv[2]);
    gap.tv_sec = ms / 1000;
    gap.tv_nsec = (ms % 1000) * 1000000L;
    prctl(PR_SET_NAME, "wk_waker");
    if (pipe(fds) || read(0, line, sizeof(line)) <= 0)
        return 1;
    pthread_create(&t, NULL, target, NULL);
    for (int i = 0; i < rounds; i++) {
        wait_until_blocked();
        nanosleep(&gap, NULL);
        if (rw(1, fds[1], line) != 1)
            return 1;
    }
    pthread_join(t, NULL);
    if (printf("done %lld\n", read_us) < 0 || fflush(stdout))
        return 1;
    pause();
    return 0;
}
"""


@pytest.fixture(scope="session")
def wakepair(tmp_path_factory):
    """The path of the built program."""
    if shutil.which("gcc") is None:
        pytest.skip("gcc is needed to build the test program")
    d = tmp_path_factory.mktemp("wakepair")
    (d / "wakepair.c").write_text(SOURCE)
    subprocess.run(["gcc", "-O1", "-fno-omit-frame-pointer", "-pthread", "-o", str(d / "wakepair"), str(d / "wakepair.c")],
                   check=True)
    return str(d / "wakepair")


def start(path, rounds, ms):
    """The program, waiting for its go (``go(proc)``)."""
    return subprocess.Popen([path, str(rounds), str(ms)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)


def go(proc, timeout=30):
    """Let it run its rounds and wait until they are done (it stays, to be
    killed after the tool's report): -> the µs its reads took."""
    proc.stdin.write("go\n")
    proc.stdin.close()
    word, _, read_us = proc.stdout.readline().partition(" ")
    assert word == "done", word
    return int(read_us)


def traced(tool, path, *args, ready=None, monkeypatch=None):
    """(pid, RunningTool): ``tool -p PID ARGS`` while the program does its
    rounds; the RunningTool's ``read_us`` is the time the reads took.
    Without ``ready``, the tool is ready when PYBCC_DEBUG says its
    last program (sched_switch, in both tools) attached."""
    proc = start(path, ROUNDS, MS)
    try:
        if ready is None:
            monkeypatch.setenv("PYBCC_DEBUG", "1")
            ready = " sched_switch"
        with RunningTool(tool, "-p", proc.pid, *args, ready=ready) as t:
            t.read_us = go(proc)
    finally:
        proc.kill()
        proc.wait()
    assert t.proc.returncode == 0, t.stderr
    return proc.pid, t


def assert_blocked_time(total_us, run):
    """ROUNDS reads blocked at least for the writer's MS ms sleeps, and at
    most for as long as the reads took (``run.read_us``: more on a busy
    machine), with room for one more short block of the reader (exiting)."""
    assert 0.8 * EXPECTED_US <= total_us <= run.read_us + 0.1 * EXPECTED_US, (total_us, run.read_us)
