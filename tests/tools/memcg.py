"""A memory cgroup of the test's own with a small limit, on cgroup2 where
the memory controller is there, else on its cgroup v1 hierarchy."""
import contextlib
import os
import subprocess
import tempfile

import pytest


def _mounts(fstype):
    with open("/proc/mounts") as f:
        for line in f:
            dev, path, kind, opts = line.split()[:4]
            if kind == fstype:
                yield path, opts.split(",")


def _memory_root():
    """(directory under which to make the cgroup, cgroup version), mounting
    cgroup2 in a temporary place when the memory controller is free for it."""
    for path, _ in _mounts("cgroup2"):
        try:
            with open(os.path.join(path, "cgroup.controllers")) as f:
                if "memory" in f.read().split():
                    with open(os.path.join(path, "cgroup.subtree_control"), "w") as c:
                        c.write("+memory")
                    return path, 2, None
        except OSError:
            continue
    for path, opts in _mounts("cgroup"):
        if "memory" in opts:
            return path, 1, None
    mnt = tempfile.mkdtemp(prefix="pybcc-cg2-")
    if subprocess.run(["mount", "-t", "cgroup2", "none", mnt]).returncode != 0:
        os.rmdir(mnt)
        pytest.skip("no memory cgroup controller to use")
    try:
        with open(os.path.join(mnt, "cgroup.subtree_control"), "w") as c:
            c.write("+memory")
    except OSError:
        subprocess.run(["umount", mnt])
        os.rmdir(mnt)
        pytest.skip("the memory controller is not available on cgroup2")
    return mnt, 2, mnt


def _write(path, value):
    with open(path, "w") as f:
        f.write(str(value))


@contextlib.contextmanager
def memory_cgroup(limit_bytes, swap=False):
    """Yield the cgroup's cgroup.procs path; memory limited to ``limit_bytes``
    and, unless ``swap``, no swap."""
    root, version, mounted = _memory_root()
    cg = tempfile.mkdtemp(prefix="pybcc-memcg-", dir=root)
    try:
        if version == 2:
            _write(os.path.join(cg, "memory.max"), limit_bytes)
            if not swap and os.path.exists(os.path.join(cg, "memory.swap.max")):
                _write(os.path.join(cg, "memory.swap.max"), 0)
        else:
            _write(os.path.join(cg, "memory.limit_in_bytes"), limit_bytes)
            if not swap and os.path.exists(os.path.join(cg, "memory.memsw.limit_in_bytes")):
                _write(os.path.join(cg, "memory.memsw.limit_in_bytes"), limit_bytes)
        yield os.path.join(cg, "cgroup.procs")
    finally:
        os.rmdir(cg)
        if mounted:
            subprocess.run(["umount", mounted])
            os.rmdir(mounted)


@contextlib.contextmanager
def process_in(procs, script):
    """A python3 running ``script`` in the cgroup of ``procs`` (its
    cgroup.procs), after the script's first line ("ready"); killed at the
    end. The script goes on at each line written to its stdin (``go(p)``)."""
    import sys
    child = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    try:
        _write(procs, child.pid)
        assert child.stdout.readline() == "ready\n"
        yield child
    finally:
        if child.poll() is None:
            child.kill()
        child.wait()


def go(child):
    child.stdin.write("go\n")
    child.stdin.flush()
