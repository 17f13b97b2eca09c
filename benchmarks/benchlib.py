"""Shared pieces of the benchmarks: starting a tool, telling when it is
attached, stopping it, and reading its CPU time and peak RSS from wait4.

Every measured process is started in its own session and stopped with SIGINT
to its process group; os.wait4 on it returns the rusage of the process and
the descendants it waited for (clang for a pybcc cold start), so CPU is
user+sys of the tree and ru_maxrss the largest RSS in the tree.
"""
import hashlib
import os
import pty
import re
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
# The interpreter itself, never a wrapper that finds it (pyenv's `python3` is a
# bash script that costs more CPU than a tool's whole start).
PY = os.environ.get("PYBCC_PYTHON") or os.path.realpath(sys.executable)
VENVS = "/var/tmp/pybcc-bench"
# The tree whose pybcc is measured: this checkout, or another one (an older
# commit exported with `git archive`, for before/after tables in one run).
TREE = os.environ.get("PYBCC_BENCH_TREE") or REPO


def _tree_key(tree):
    """Names, sizes and mtimes of what a wheel of ``tree`` is built from."""
    h = hashlib.sha256(PY.encode())
    for top in ("pybcc", "pyproject.toml", "README.md"):
        for d, dirs, files in sorted(os.walk(os.path.join(tree, top))) or [(tree, [], [top])]:
            dirs[:] = sorted(x for x in dirs if x != "__pycache__")
            for name in sorted(files):
                st = os.stat(os.path.join(d, name))
                h.update(f"{os.path.relpath(os.path.join(d, name), tree)}:{st.st_size}:{st.st_mtime_ns};".encode())
    return h.hexdigest()[:16]


_venvs = {}


def installed(tree=None, log=None):
    """A venv with pybcc installed from ``tree`` as a user installs it (`pip
    install`, not editable; pyelftools from PyPI; bytecode compiled), made
    by PY: -> its directory. Built once per state of the tree and kept in
    VENVS; the runs measure the console script `VENV/bin/pybcc` and the
    venv's `python3`, started outside the tree so nothing imports the
    checkout."""
    tree = tree or TREE
    if tree in _venvs:
        return _venvs[tree]
    prefix = "venv-" + hashlib.sha256(os.path.abspath(tree).encode()).hexdigest()[:8] + "-"
    venv = os.path.join(VENVS, prefix + _tree_key(tree))
    if os.path.exists(os.path.join(venv, "ok")):
        _venvs[tree] = venv
        return venv
    os.makedirs(VENVS, exist_ok=True)
    for old in os.listdir(VENVS):      # earlier states of this tree
        if old.startswith(prefix) and old != os.path.basename(venv):
            shutil.rmtree(os.path.join(VENVS, old), ignore_errors=True)
    (log or (lambda m: print(m, file=sys.stderr)))(f"building {venv} (pip install {tree})")
    with tempfile.TemporaryDirectory(prefix="pybcc-wheel-src-") as src:
        # a copy, so pip's build/ and egg-info never land in the checkout
        shutil.copytree(os.path.join(tree, "pybcc"), os.path.join(src, "pybcc"),
                        ignore=shutil.ignore_patterns("__pycache__"))
        for name in ("pyproject.toml", "README.md"):
            shutil.copy(os.path.join(tree, name), src)
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([PY, "-m", "venv", venv], check=True)
        subprocess.run([os.path.join(venv, "bin", "python3"), "-m", "pip", "install", "-q", src],
                       check=True, cwd=src, stdout=subprocess.DEVNULL)
    open(os.path.join(venv, "ok"), "w").close()
    _venvs[tree] = venv
    return venv


def pybcc_command(tree=None):
    """argv that starts pybcc as installed: the venv's console script."""
    return [os.path.join(installed(tree), "bin", "pybcc")]


def venv_python(tree=None):
    return os.path.join(installed(tree), "bin", "python3")


class Result:
    def __init__(self):
        self.ready = None       # seconds from exec to "attached" (None: never)
        self.cpu = None         # user+sys seconds of the tree
        self.rss_mb = None      # peak RSS of the tree, MB
        self.rc = None
        self.error = None       # short reason when it failed
        self.note = ""

    def __repr__(self):
        return f"Result(ready={self.ready}, cpu={self.cpu}, rss={self.rss_mb}, rc={self.rc}, err={self.error!r})"


_PR_SET_PDEATHSIG = 1
_libc = None


def die_with_parent():
    """A Popen preexec_fn: the child is killed when the benchmark ends, however
    it ends (an exception, Ctrl-C, SIGKILL). Tools run in their own sessions,
    so a Ctrl-C at the terminal does not reach them, and a reference tool left
    running stays attached (a libbpf-tools biolatency was found so)."""
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def popen(argv, preexec_fn=None, **kw):
    """subprocess.Popen whose child dies with the benchmark (die_with_parent)."""
    global _libc
    if _libc is None:    # here: the child must not load a library between fork and exec
        import ctypes
        _libc = ctypes.CDLL(None)

    def setup():
        die_with_parent()
        if preexec_fn is not None:
            preexec_fn()
    return subprocess.Popen(argv, preexec_fn=setup, **kw)


class Child:
    """A started process reaped only with wait4, so its rusage is never lost
    (Popen.poll would reap it and throw the rusage away). It dies with the
    benchmark (die_with_parent)."""

    def __init__(self, argv, **kw):
        self.popen = popen(argv, start_new_session=True, **kw)
        self.pid = self.popen.pid
        self.status = None

    def alive(self):
        if self.status is None:
            wpid, status, ru = os.wait4(self.pid, os.WNOHANG)
            if wpid == self.pid:
                self.status = (os.waitstatus_to_exitcode(status), ru)
                self.popen.returncode = self.status[0]
        return self.status is None

    def finish(self, sig=signal.SIGINT, timeout=15.0):
        """Signal the group (if still running) and reap: -> (rc, rusage)."""
        if self.alive():
            stop(self.pid, sig)
            self.status = wait_rusage(self.pid, timeout)
            self.popen.returncode = self.status[0]
        return self.status


def wait_rusage(pid, timeout=15.0):
    """Reap pid with wait4; SIGKILL its group after timeout. -> (rc, rusage)."""
    deadline = time.monotonic() + timeout
    killed = False
    while True:
        wpid, status, ru = os.wait4(pid, os.WNOHANG)
        if wpid == pid:
            return os.waitstatus_to_exitcode(status), ru
        if time.monotonic() > deadline and not killed:
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            killed = True
        time.sleep(0.01)


def stop(pid, sig=signal.SIGINT):
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass


def attach_fds(pid):
    """How many perf-event and BPF-link fds pid holds (attachments, plus the
    perf buffer's per-CPU events for tools that use one)."""
    n = 0
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if "perf_event" in link or "bpf_link" in link:
                n += 1
    except OSError:
        return -1
    return n


def wait_attached_fds(pid, timeout=60.0, stable=0.4, alive=None):
    """Wait until pid holds attach fds and their number has not changed for
    `stable` seconds. Returns the count, or -1 if the process died / timed out."""
    deadline = time.monotonic() + timeout
    last, since = None, time.monotonic()
    while time.monotonic() < deadline:
        n = attach_fds(pid)
        if n < 0 or (alive is not None and not alive()):
            return -1
        if n != last:
            last, since = n, time.monotonic()
        elif n > 0 and time.monotonic() - since >= stable:
            return n
        time.sleep(0.02)
    return -1


def last_error_line(text):
    """The line of a tool's stderr that says why it failed."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    skip = re.compile(r"warning:|In file included|note:|^\^|^\d+ \||^#|^\*|^~|RLIMIT_MEMLOCK|"
                      r"^File \"|^Traceback|^raise |^\w+ = |^fn = |^[a-z_.]+\(")
    keep = [line for line in lines if not skip.search(line)]
    for line in reversed(keep):
        if re.search(r"Exception|Error|error|FATAL|failed|Failed|not |No such|denied|EPERM", line):
            return line[:300]
    return (keep or lines or ["(no output)"])[-1][:300]


def run_until_marker(argv, env, match, trigger=None, trigger_every=0.01, timeout=60.0,
                     check_fds=False, cwd=None):
    """Start argv on a pty (so C tools line-buffer their stdout), call
    trigger() every trigger_every seconds until a stdout line satisfies
    match(line); then SIGINT it and reap. Result.ready is the time from just
    before exec to the moment the matching line was read."""
    res = Result()
    master, slave = pty.openpty()
    import tty
    tty.setraw(slave)
    errpath = f"/tmp/pybcc-bench-err-{os.getpid()}-{threading.get_ident()}"
    errf = open(errpath, "w+b")
    t0 = time.perf_counter()
    p = Child(argv, env=env, stdin=subprocess.DEVNULL, stdout=slave, stderr=errf, cwd=cwd)
    os.close(slave)
    found = threading.Event()
    state = {"t": None, "fds": None, "lines": 0}

    def reader():
        buf = b""
        while True:
            try:
                r, _, _ = select.select([master], [], [], 0.2)
                if not r:
                    if p.status is not None:
                        return
                    continue
                chunk = os.read(master, 65536)
            except OSError:
                return
            if not chunk:
                return
            buf += chunk
            *lines, buf = buf.split(b"\n")
            for line in lines:
                state["lines"] += 1
                if not found.is_set() and match(line.decode(errors="replace")):
                    state["t"] = time.perf_counter()
                    if check_fds:
                        state["fds"] = attach_fds(p.pid)
                    found.set()

    th = threading.Thread(target=reader, daemon=True)
    th.start()
    deadline = time.monotonic() + timeout
    while not found.is_set() and time.monotonic() < deadline and p.alive():
        if trigger:
            trigger()
        found.wait(trigger_every)
    if found.is_set():
        res.ready = state["t"] - t0
        if check_fds:
            res.note = f"attach fds at marker: {state['fds']}"
            if not state["fds"]:
                res.error = "marker line printed before any attachment"
    rc, ru = p.finish()
    th.join(2)
    os.close(master)
    res.rc = rc
    res.cpu = ru.ru_utime + ru.ru_stime
    res.rss_mb = ru.ru_maxrss / 1024.0
    if res.ready is None:
        errf.seek(0)
        res.error = res.error or last_error_line(errf.read().decode(errors="replace")) + f" (exit {rc})"
    errf.close()
    os.unlink(errpath)
    return res


# --- statistics and tables -------------------------------------------------------

def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(values, digits=3, scale=1.0):
    values = [v * scale for v in values if v is not None]
    if not values:
        return "—"
    m = statistics.median(values)
    if len(values) == 1:
        return f"{m:.{digits}f}"
    return f"{m:.{digits}f} ({min(values):.{digits}f}–{max(values):.{digits}f})"


def ratio(a, b, digits=2):
    if a is None or b is None or b == 0:
        return "—"
    return f"{a / b:.{digits}f}"


def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for r in rows:
        out.append("| " + " | ".join(str(c) for c in r) + " |")
    return "\n".join(out)


def build_openloop(workdir):
    exe = os.path.join(workdir, "openloop")
    subprocess.run(["gcc", "-O2", "-Wall", "-o", exe, os.path.join(HERE, "workloads", "openloop.c")],
                   check=True)
    return exe
