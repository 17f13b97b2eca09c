"""Start-up must not regress: a warm start of pybcc's tools, as a ratio to
libbpf-tools' execsnoop measured in the same run (so a busy or slow machine
moves both), stays within 30 % of the figures committed in
benchmarks/warm_start.json (written by `benchmarks/warm_start.py
--write-figures`, shown in benchmarks/RESULTS.md). Like the benchmark, it
runs pybcc as installed: the `pybcc` command of a venv that `pip install`ed
this checkout (benchmarks/benchlib.installed, built once per state of the
tree).

Also checked: a warm start imports neither pyelftools nor OpenSSL, and
does not parse the kernel's BTF."""
import json
import os
import statistics
import subprocess
import sys

import pytest

BENCH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks")
sys.path.insert(0, BENCH)
import warm_start  # noqa: E402

TOOLS = ("execsnoop", "runqlat")
RUNS = 5     # medians of 5: a load spike on this shared machine moves one run, not the median
SLACK = 1.30


def _pybcc(tool):
    return warm_start.bl.pybcc_command() + [tool] + warm_start.TOOL_ARGS.get(tool, [])


@pytest.fixture
def warm_env(root, tmp_path):
    if not os.access(f"/usr/sbin/{warm_start.REFERENCE}", os.X_OK):
        pytest.skip(f"libbpf-tools' {warm_start.REFERENCE} is not installed (scripts/setup.sh)")
    env = dict(os.environ, PYBCC_CACHE_DIR=str(tmp_path))
    warm_start.bl.installed(log=lambda m: None)
    for tool in TOOLS:
        r = warm_start.measure(_pybcc(tool), env)   # fills the caches
        assert r.ready is not None, f"{tool} did not attach: {r.error}"
    return env


def test_warm_start_within_30_percent_of_committed_figures(warm_env):
    with open(warm_start.FIGURES) as f:
        committed = json.load(f)["norm"]
    ref, cpu = [], {t: [] for t in TOOLS}
    for _ in range(RUNS):
        ref.append(warm_start.measure([f"/usr/sbin/{warm_start.REFERENCE}"], warm_env).cpu)
        for tool in TOOLS:
            r = warm_start.measure(_pybcc(tool), warm_env)
            assert r.ready is not None, f"{tool} did not attach: {r.error}"
            cpu[tool].append(r.cpu)
    ref_cpu = statistics.median(ref)
    for tool in TOOLS:
        ratio = statistics.median(cpu[tool]) / ref_cpu
        assert ratio <= committed[tool] * SLACK, (
            f"{tool}: warm start {statistics.median(cpu[tool]):.3f} s CPU = {ratio:.2f} × "
            f"libbpf-tools' execsnoop ({ref_cpu:.3f} s); committed {committed[tool]:.2f} × "
            f"(limit {committed[tool] * SLACK:.2f} ×)")


def test_warm_start_loads_no_elf_parser_no_openssl_no_kernel_btf(warm_env):
    code = ("import sys, pybcc.btf.types as bt\n"
            "from pybcc.tools.lib.runtime import Tool\n"
            "with Tool('runqlat', {}) as t:\n"
            "    t.attach_first('wakeup_btf', 'wakeup_raw')\n"
            "print(sorted(m for m in ('elftools', 'hashlib', '_hashlib') if m in sys.modules),"
            " bt._kernel_btf is None)\n")
    out = subprocess.run([sys.executable, "-c", code], env=warm_env, capture_output=True, text=True,
                         cwd=os.path.dirname(BENCH), timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["[]", "True"], out.stdout


def test_warm_start_imports_none_of_the_heavy_stdlib(warm_env):
    """What the warm path was cut of stays cut: json (the kernel memo is
    marshal), gettext and locale (argparse's messages), dataclasses, inspect,
    typing and platform (records and os.uname() instead), contextlib and
    threading (three links are closed from threads of _thread)."""
    code = ("import sys, pybcc.cli, argparse\n"   # the console script imports pybcc.cli first
            "from pybcc.tools.lib.runtime import Tool\n"
            "argparse.ArgumentParser(description='x').parse_args([])\n"
            "with Tool('runqlat', {}) as t:\n"
            "    for prog in ('wakeup', 'wakeup_new', 'switch'):\n"
            "        t.attach_first(prog + '_btf', prog + '_raw')\n"
            "print(sorted(m for m in ('json', 'gettext', 'locale', 'dataclasses', 'inspect',\n"
            "                         'typing', 'platform', 'base64', 'contextlib', 'threading')\n"
            "             if m in sys.modules))\n")
    # the venv's interpreter, as a user runs it (the test runner's may have
    # imported some of these at its own start)
    out = subprocess.run([warm_start.bl.venv_python(), "-c", code], env=warm_env,
                         capture_output=True, text=True, cwd="/", timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["[]"], out.stdout


def test_first_start_with_an_empty_cache_parses_no_elf(root, tmp_path):
    """A prebuilt object's spec ships beside it (tools/lib/prebuilt.py), so a
    first start in an empty cache neither imports pyelftools nor OpenSSL;
    its cache writes make their files without tempfile (and its shutil,
    random, bz2, lzma)."""
    from pybcc.tools.lib import prebuilt
    if not prebuilt.current_object("execsnoop"):
        pytest.skip("no current prebuilt objects (python3 -m pybcc.tools.lib.prebuilt)")
    # -S: no site .pth files, which may import any of these themselves
    code = ("import sys\n"
            "before = set(sys.modules)\n"
            "from pybcc.tools.lib.runtime import Tool\n"
            "with Tool('execsnoop', {}) as t:\n"
            "    pass\n"
            "print(sorted(m for m in ('elftools', 'hashlib', '_hashlib', 'tempfile', 'shutil')"
            " if m in sys.modules and m not in before))\n")
    env = dict(os.environ, PYBCC_CACHE_DIR=str(tmp_path / "empty"))
    out = subprocess.run([sys.executable, "-S", "-c", code], env=env, capture_output=True,
                         text=True, cwd=os.path.dirname(BENCH), timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["[]"], out.stdout


def test_bpf_text_cached_imports_little(root, tmp_path):
    """BPF(text=...) found in the cache: no OpenSSL, logging, subprocess,
    pyelftools or USDT support imported."""
    code = ("import sys\n"
            "from pybcc.bcc import BPF\n"
            "b = BPF(text='TRACEPOINT_PROBE(syscalls, sys_enter_getppid) { return 0; }')\n"
            "print(sorted(m for m in ('elftools', 'hashlib', '_hashlib', 'logging', 'subprocess',"
            " 'pybcc.usdt', 'difflib') if m in sys.modules))\n")
    env = dict(os.environ, PYBCC_CACHE_DIR=str(tmp_path))
    for run in (1, 2):      # the first compiles, the second finds everything cached
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                             text=True, cwd=os.path.dirname(BENCH), timeout=300)
        assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["[]"], out.stdout


def test_record_code_is_compiled_once_per_cache(tmp_path):
    """Record classes get their __init__ from a template per shape; a start
    compiles the shapes its cache does not hold yet, and the next start
    compiles none (kept by pybcc/cli.py: remember_record_code)."""
    code = ("import builtins\n"
            "count, real = [0], builtins.compile\n"
            "def counting(*a, **kw):\n"
            "    count[0] += a[1:2] == ('<record>',)\n"
            "    return real(*a, **kw)\n"
            "builtins.compile = counting\n"
            "import pybcc.cli as cli\n"
            "cli._use_record_code()\n"       # as `pybcc TOOL` does first
            "import pybcc.tools.lib.runtime, pybcc.tools.registry\n"
            "cli.remember_record_code()\n"   # and when the tool ends
            "print(count[0])\n")
    env = dict(os.environ, PYBCC_CACHE_DIR=str(tmp_path))
    runs = [subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                           cwd=os.path.dirname(BENCH), timeout=60) for _ in range(2)]
    assert all(r.returncode == 0 for r in runs), runs[0].stderr + runs[1].stderr
    first, second = (int(r.stdout) for r in runs)
    assert first > 5 and second == 0, (first, second)
