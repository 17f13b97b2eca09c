"""Without the privileges tracing needs (as user nobody), pybcc says so in
one line and exits non-zero: no traceback, nothing written."""
import os
import pwd
import shutil
import subprocess
import sys
import tempfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _python_for_nobody():
    """A python3 of our minor version that user nobody can run (pyenv's may
    sit under /root, 0700)."""
    for exe in (sys.executable, f"/usr/bin/python3.{sys.version_info.minor}"):
        r = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                            exe, "-c", "import sys; print(sys.version_info[:2])"],
                           capture_output=True, text=True)
        if r.returncode == 0 and r.stdout.strip() == str(tuple(sys.version_info[:2])):
            return exe
    return None


@pytest.fixture(scope="module")
def as_nobody():
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        pytest.skip("needs root and setpriv to become user nobody")
    try:
        pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("no user nobody")
    exe = _python_for_nobody()
    if exe is None:
        pytest.skip("no python3 that user nobody can run")
    if os.stat(ROOT).st_mode & 0o005 != 0o005:
        pytest.skip(f"{ROOT} is not readable by other users")
    # pybcc's run-time dependency, copied where nobody can read it.
    site = tempfile.mkdtemp(prefix="pybcc-nobody-site-")
    import elftools
    shutil.copytree(os.path.dirname(elftools.__file__), os.path.join(site, "elftools"))
    subprocess.run(["chmod", "-R", "a+rX", site], check=True)
    env = {"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", "PYTHONPATH": f"{ROOT}:{site}",
           "LANG": "C.UTF-8"}

    def run(*args):
        return subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                               exe, "-m", "pybcc", *args], env=env, cwd="/",
                              capture_output=True, text=True, timeout=60)
    yield run
    shutil.rmtree(site, ignore_errors=True)


def _one_clear_line(r):
    assert r.returncode != 0
    assert "Traceback" not in r.stderr, r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, r.stderr
    assert "root" in lines[0] and "CAP_BPF" in lines[0] and "CAP_PERFMON" in lines[0], lines[0]


def test_tool_as_nobody(as_nobody):
    _one_clear_line(as_nobody("execsnoop"))


def test_run_script_as_nobody(as_nobody):
    _one_clear_line(as_nobody("run", os.path.join(ROOT, "tests", "bcc_scripts", "hash_counts.py")))


def test_help_still_works_as_nobody(as_nobody):
    r = as_nobody("execsnoop", "-h")
    assert r.returncode == 0 and "usage" in r.stdout.lower(), r.stderr
