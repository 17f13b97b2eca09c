"""One wheel, no compiler needed for the tools.

Builds the wheel (scripts/build-wheel.sh: the tools' prebuilt objects for
x86-64 and arm64 inside), installs it into a fresh venv with no clang on PATH
and no ziglang, and runs three tools on this kernel. BPF(text=...) there has
no compiler, and says how to get one.
"""
import os
import subprocess
import sys
import uuid
import zipfile

import pytest

pytestmark = pytest.mark.usefixtures("root")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def venv(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("wheel")
    r = subprocess.run(["bash", os.path.join(ROOT, "scripts", "build-wheel.sh"), str(tmp / "dist")],
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout + r.stderr
    wheel = r.stdout.strip().splitlines()[-1]
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
    for arch in ("x86", "arm64"):
        assert f"pybcc/tools/prebuilt/{arch}/execsnoop.bpf.o" in names, arch
        # its parsed spec too: a first start parses no ELF (elf_reader._read_beside)
        assert any(n.startswith(f"pybcc/tools/prebuilt/{arch}/execsnoop.bpf.o.") and n.endswith(".spec")
                   for n in names), arch
    env_dir = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(env_dir)], check=True)
    py = str(env_dir / "bin" / "python")
    r = subprocess.run([py, "-m", "pip", "install", "-q", wheel], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return py, tmp


def _run(venv, *args, timeout=60):
    py, tmp = venv
    # PATH holds only the venv: no clang-N, no $CC, no ziglang in the venv;
    # a cache dir of its own, so nothing compiled elsewhere is found.
    env = {"PATH": os.path.dirname(py), "PYBCC_CACHE_DIR": str(tmp / "cache"),
           "HOME": str(tmp), "LANG": "C.UTF-8"}
    return subprocess.run([py, *args], capture_output=True, text=True, timeout=timeout,
                          env=env, cwd=str(tmp))


def test_wheel_tools_run_without_a_compiler(venv):
    r = _run(venv, "-c", "import pybcc, os; print(pybcc.__file__)")
    assert r.returncode == 0 and "venv" in r.stdout and ROOT not in r.stdout, r.stdout + r.stderr
    r = _run(venv, "-m", "pybcc", "runqlat", "1", "1")
    assert r.returncode == 0 and "usecs" in r.stdout, r.stdout + r.stderr
    r = _run(venv, "-m", "pybcc", "biolatency", "1", "1")
    assert r.returncode == 0 and "Tracing block device I/O" in r.stdout, r.stdout + r.stderr
    marker = f"pybcc-wheel-{uuid.uuid4().hex[:8]}"
    py, _ = venv
    proc = subprocess.Popen(
        [py, "-c", f"import subprocess, time; time.sleep(3); subprocess.run(['/bin/echo', '{marker}'])"],
        stdout=subprocess.DEVNULL)
    r = _run(venv, "-m", "pybcc", "execsnoop", "--duration", "6")
    proc.wait()
    assert r.returncode == 0 and marker in r.stdout, r.stdout + r.stderr


def test_wheel_first_start_parses_no_elf(venv):
    """The spec shipped beside a prebuilt object matches once installed (it
    is keyed by contents, not by the mtimes an install sets)."""
    code = ("import sys\n"
            "from pybcc.tools.lib.runtime import Tool\n"
            "with Tool('execsnoop', {}) as t:\n"
            "    pass\n"
            "print('elftools' in sys.modules)\n")
    r = _run(venv, "-c", code)
    assert r.returncode == 0 and r.stdout.split() == ["False"], r.stdout + r.stderr


def test_wheel_bpf_text_says_how_to_get_a_compiler(venv):
    r = _run(venv, "-c", "from pybcc import BPF\nBPF(text='int x;')")
    assert r.returncode != 0
    assert "pybcc[compiler]" in r.stderr and "clang" in r.stderr, r.stderr
