import os
import shutil
import signal
import subprocess
import tempfile

import pytest

from session_guard import guard_session

# pybcc's cache (compiled objects, vmlinux.h, kernel memo) goes to a private
# directory for this test session, set before anything imports pybcc, so the
# tests never read or leave anything in the machine's /var/cache/pybcc. Tools
# the tests start inherit it. Data the tests themselves download (a foreign
# kernel's BTF, the libbpf oracle driver) is kept across sessions in
# tests/testdata.py's data_dir() instead.
_SESSION_CACHE = tempfile.mkdtemp(prefix="pybcc-test-cache-")
os.environ["PYBCC_CACHE_DIR"] = _SESSION_CACHE


def _sigterm_as_interrupt(signum, frame):
    raise KeyboardInterrupt


def pytest_configure(config):
    # a SIGKILL of pytest leaves nothing behind: a watchdog kills what the
    # session started and removes its cache and the libbpf oracle's pins
    # (tests/session_guard.py; test_libbpf_oracle.py's _pin_dir)
    guard_session(remove_dirs=[_SESSION_CACHE, f"/sys/fs/bpf/pybcc_oracle_{os.getpid()}_*"])
    # SIGTERM ends the session as Ctrl-C does, so pytest tears down the
    # session's fixtures: the database and Prometheus servers they started
    # would otherwise outlive it (PostgreSQL, a daemon, was left running).
    signal.signal(signal.SIGTERM, _sigterm_as_interrupt)
    if os.geteuid() == 0:
        for fs, path in (("tracefs", "/sys/kernel/tracing"), ("bpf", "/sys/fs/bpf")):
            if subprocess.run(["mountpoint", "-q", path]).returncode != 0:
                subprocess.run(["mount", "-t", fs, fs, path], check=False)


def pytest_unconfigure(config):
    shutil.rmtree(_SESSION_CACHE, ignore_errors=True)


@pytest.fixture
def root():
    if os.geteuid() != 0:
        pytest.skip("needs root to use bpf(2)")
