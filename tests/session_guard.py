"""Nothing a test session starts outlives it, even when pytest is SIGKILLed.

tests/conftest.py calls guard_session() first thing. It marks the session's
processes two ways: a cgroup v2 of the session's own, which pytest joins and
every child inherits (a server that daemonizes itself stays in it), where
one can be made; and an environment variable every child inherits (this also
covers a child a test moves to another cgroup, and machines without a
writable cgroup v2). A watchdog process, left in the original cgroup and in
a session of its own, waits on a pidfd for pytest to end -- however it ends
-- and then kills every marked process that is left: a tool still attached,
a database server. It touches nothing unmarked, and removes the session's
cgroup and the directories it was given (its cache; bpffs pins, which keep
programs loaded).

Run as a script, this module is that watchdog.
"""
import glob
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time

MARK = "PYBCC_TEST_SESSION_"     # + a random token: the environment mark
# PYBCC_TEST_GUARD=environ: mark by the environment only (tests of the fallback)
FORCE_ENVIRON = os.environ.get("PYBCC_TEST_GUARD") == "environ"


def cgroup2_dir(pid="self"):
    """The directory of PID's cgroup v2, or None (no cgroup2 mounted, or
    PID's cgroup is outside the mount, as in some containers)."""
    try:
        with open(f"/proc/{pid}/cgroup") as f:
            path = next((ln[3:].strip() for ln in f if ln.startswith("0::")), None)
        with open("/proc/self/mountinfo") as f:
            mounts = [ln.split() for ln in f]
    except OSError:
        return None
    for fields in mounts:
        fstype = fields[fields.index("-") + 1]
        if fstype == "cgroup2" and path is not None:
            rel = os.path.relpath(path, fields[3])      # fields[3]: the mount's root
            if not rel.startswith(".."):
                return os.path.normpath(os.path.join(fields[4], rel))
    return None


def _make_cgroup(token):
    parent = None if FORCE_ENVIRON else cgroup2_dir()
    if parent is None:
        return None
    path = os.path.join(parent, f"pybcc-tests-{os.getpid()}-{token}")
    try:
        os.mkdir(path)
    except OSError:
        return None
    return path


def guard_session(remove_dirs=()):
    """Mark this process's future children and start the watchdog, which
    also removes ``remove_dirs`` (glob patterns) once the session has ended."""
    token = secrets.token_hex(8)
    os.environ[MARK + token] = "1"
    try:
        pidfd = os.pidfd_open(os.getpid())
    except (AttributeError, OSError):     # Linux < 5.3: no watchdog
        return
    cgroup = _make_cgroup(token)
    # started before pytest joins the cgroup, so it stays outside it
    subprocess.Popen([sys.executable, os.path.abspath(__file__), str(pidfd), token,
                      cgroup or "", *remove_dirs],
                     pass_fds=[pidfd], stdin=subprocess.DEVNULL, start_new_session=True)
    os.close(pidfd)
    if cgroup is not None:
        try:
            with open(os.path.join(cgroup, "cgroup.procs"), "w") as f:
                f.write(str(os.getpid()))
        except OSError:       # e.g. a parent with controllers on: the mark alone
            os.rmdir(cgroup)


# --- the watchdog ------------------------------------------------------------------

def _in_cgroup(cgroup):
    pids = set()
    for d, _, _ in os.walk(cgroup):
        try:
            with open(os.path.join(d, "cgroup.procs")) as f:
                pids.update(int(p) for p in f.read().split())
        except OSError:
            pass
    return pids


def _marked(mark):
    pids = set()
    for name in os.listdir("/proc"):
        if name.isdigit() and _has_mark(name, mark):
            pids.add(int(name))
    return pids


def _has_mark(pid, mark):
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            return mark in f.read()
    except OSError:
        return False


def _cgroup_of(pid):
    try:
        with open(f"/proc/{pid}/cgroup") as f:
            return next((ln[3:].strip() for ln in f if ln.startswith("0::")), None)
    except OSError:
        return None


def _command_line(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return " ".join(f.read().decode(errors="replace").replace("\0", " ").split())[:100]
    except OSError:
        return "?"


def kill_session(token, cgroup):
    """SIGKILL the session's processes until none is left; returns what was
    killed, as "pid command line" strings. Each is checked again through a
    pidfd before the signal, so a pid reused meanwhile is not hit."""
    mark = f"{MARK}{token}=".encode()
    # the session's cgroup as /proc/PID/cgroup names it (we are in its parent)
    ours = cgroup and f"{_cgroup_of('self').rstrip('/')}/{os.path.basename(cgroup)}"
    killed = {}
    for _ in range(100):            # a fork between rounds is caught by the next
        pids = (_marked(mark) | (_in_cgroup(cgroup) if cgroup else set())) - {os.getpid()}
        if not pids:
            break
        for pid in pids:
            try:
                pidfd = os.pidfd_open(pid)
            except OSError:         # gone
                continue
            try:
                where = _cgroup_of(pid) or ""
                if _has_mark(pid, mark) or (ours and (where == ours or where.startswith(ours + "/"))):
                    killed.setdefault(pid, _command_line(pid))
                    signal.pidfd_send_signal(pidfd, signal.SIGKILL)
            except ProcessLookupError:
                pass
            finally:
                os.close(pidfd)
        time.sleep(0.1)
    return [f"{pid} {cmd}" for pid, cmd in sorted(killed.items())]


def _remove_cgroup(cgroup):
    """rmdir the cgroup and any children (tests may make some in it); the
    kernel refuses until its killed processes have exited."""
    deadline = time.monotonic() + 10
    while os.path.isdir(cgroup) and time.monotonic() < deadline:
        for d, _, _ in os.walk(cgroup, topdown=False):
            try:
                os.rmdir(d)
            except OSError:
                pass
        time.sleep(0.1)


def watch(pidfd, token, cgroup, remove_dirs):
    import select
    signal.signal(signal.SIGINT, signal.SIG_IGN)    # a Ctrl-C is pytest's to handle
    select.select([pidfd], [], [])                  # readable once pytest has ended
    killed = kill_session(token, cgroup)
    if killed:
        print(f"pybcc tests: the session left {len(killed)} processes running; killed: "
              + "; ".join(killed), file=sys.stderr)
    if cgroup:
        _remove_cgroup(cgroup)
    for pattern in remove_dirs:
        for d in glob.glob(pattern):
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    watch(int(sys.argv[1]), sys.argv[2], sys.argv[3] or None, sys.argv[4:])
