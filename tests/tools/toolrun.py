"""Run a pybcc tool as a user would, in the background, and read its output."""
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import warnings

from pybcc.kernel.syscall_names import syscall_name

# Where a tool's main thread waits once its loop runs: sleeping between
# reports, polling its buffers, reading a pipe, waiting for a child or thread.
WAITING_SYSCALLS = {"clock_nanosleep", "nanosleep", "epoll_wait", "epoll_pwait",
                    "epoll_pwait2", "poll", "ppoll", "select", "pselect6", "read",
                    "wait4", "waitid", "futex", "pause", "rt_sigsuspend"}


def blocked_in(pid):
    """The syscall PID's main thread is blocked in, or None (running, gone,
    or blocked outside a syscall)."""
    try:
        with open(f"/proc/{pid}/syscall") as f:
            first = f.read().split()[:1]
    except OSError:
        return None
    if not first or not first[0].isdigit():     # "running", or -1
        return None
    return syscall_name(int(first[0]))


def where_blocked(pid):
    """Where a stuck process is: each thread's syscall line and wait channel."""
    out = []
    for tid in sorted(os.listdir(f"/proc/{pid}/task")):
        try:
            with open(f"/proc/{pid}/task/{tid}/syscall") as f, \
                    open(f"/proc/{pid}/task/{tid}/wchan") as w:
                out.append(f"thread {tid}: syscall {f.read().split()[:1]} wchan {w.read()}")
        except OSError as e:
            out.append(f"thread {tid}: {e}")
    return "; ".join(out)


def communicate_or_fail(proc, timeout, what):
    """proc.communicate(); a process that has not ended within ``timeout`` is
    killed and the test fails with ``what`` and where each thread was blocked."""
    try:
        return proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        where = where_blocked(proc.pid)
        proc.kill()
        proc.communicate()
        raise AssertionError(f"{what}: {where}") from None


def wait_until_waiting(proc, timeout=10):
    """Wait until the tool blocks in its loop's wait, so that what the test
    does next (trigger events, read a report) finds the tool tracing. (A
    SIGINT sent right at the ready line still gets the final report: the
    tools hold it until their loop runs, see runtime.take_interrupts.)"""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if blocked_in(proc.pid) in WAITING_SYSCALLS:
            return True
        time.sleep(0.01)
    return False


class RunningTool:
    """``pybcc TOOL ARGS`` in a child with the default SIGINT handler (a
    background job may inherit SIGINT ignored; Python then never sees Ctrl-C)."""

    def __init__(self, tool, *args, ready=None, timeout=60, wait_loop=True):
        """``wait_loop``: after ``ready``, also wait until the tool blocks in its
        loop (false: return at the ready line, to test a Ctrl-C sent then)."""
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pybcc", tool, *map(str, args)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        self.lines = []
        self.err_lines = []
        self._ready = threading.Event()
        self._ready_text = ready
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        # With --json, the header and "Tracing..." go to stderr: readiness shows there.
        self._err_reader = threading.Thread(target=self._read_err, daemon=True)
        self._err_reader.start()
        try:
            self._wait_ready(tool, ready, timeout, wait_loop)
        except BaseException:
            # no `with` owns the tool yet: an interrupted session would orphan it
            self.stop()
            raise

    def _wait_ready(self, tool, ready, timeout, wait_loop):
        if ready is not None and not self._ready.wait(timeout):
            raise AssertionError(f"{tool} did not print {ready!r} within {timeout}s:\n"
                                 f"{self.stdout}\n{self.stderr}")
        if ready is not None and wait_loop and not wait_until_waiting(self.proc) and self.proc.poll() is None:
            warnings.warn(f"{tool} printed {ready!r} but did not block in a wait within 10 s "
                          f"(in {blocked_in(self.proc.pid)})")

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))
            if self._ready_text is not None and self._ready_text in line:
                self._ready.set()
        self._ready.set()

    def _read_err(self):
        for line in self.proc.stderr:
            self.err_lines.append(line.rstrip("\n"))
            if self._ready_text is not None and self._ready_text in line:
                self._ready.set()

    @property
    def header(self):
        """The line that had the ``ready`` text (events may follow it at once)."""
        return next(ln for ln in self.lines if self._ready_text in ln)

    @property
    def stdout(self):
        return "\n".join(self.lines)

    def json_records(self):
        """stdout's lines parsed as JSON (with --json every line is one object)."""
        return [json.loads(ln) for ln in list(self.lines) if ln.strip()]

    def wait_for_record(self, predicate, timeout=15):
        """Wait for a JSON line whose object satisfies predicate; return it (or None)."""
        found = self.wait_for(lambda ln: ln.startswith("{") and predicate(json.loads(ln)), timeout)
        return json.loads(found) if found is not None else None

    def wait_for(self, predicate, timeout=15):
        """Wait until some output line satisfies predicate; return it (or None).
        Each line is tested once, as it arrives, and the timeout holds between
        lines: predicates that look at all of ``self.lines`` made this
        quadratic, hours for a snoop printing a load generator's flood."""
        deadline = time.time() + timeout
        checked = 0
        while True:
            finished = self.proc.poll() is not None and not self._reader.is_alive()
            for line in self.lines[checked:]:
                checked += 1
                if predicate(line):
                    return line
                if time.time() >= deadline:
                    return None
            if finished or time.time() >= deadline:
                return None
            time.sleep(0.05)

    def stop(self, sig=signal.SIGINT, timeout=20):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._reader.join(5)
        self._err_reader.join(5)
        self.stderr = "\n".join(self.err_lines)
        return self.proc.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def run_tool(tool, *args, timeout=60):
    """Run a tool to completion (it must stop by itself); returns CompletedProcess."""
    return subprocess.run([sys.executable, "-m", "pybcc", tool, *map(str, args)],
                          capture_output=True, text=True, timeout=timeout)


def bad_input(tool, *args, code=2):
    """Run a tool with a bad argument: it must exit with ``code`` after one
    line on stderr and no traceback. Returns that line."""
    r = run_tool(tool, *args)
    lines = r.stderr.strip().splitlines()
    assert r.returncode == code and len(lines) == 1 and "Traceback" not in r.stderr, \
        (tool, args, r.returncode, r.stderr)
    return lines[0]


@contextlib.contextmanager
def gated_child(argv):
    """A child that waits for a line on stdin before its work (so a tool can
    attach first); killed and reaped when the block ends."""
    child = subprocess.Popen(argv, stdin=subprocess.PIPE, text=True)
    try:
        yield child
    finally:
        child.kill()
        child.wait()


def release(child, timeout=20):
    """Let a gated child do its work, and wait until it has finished."""
    child.stdin.write("go\n")
    child.stdin.close()
    child.wait(timeout)
