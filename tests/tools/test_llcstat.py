"""llcstat needs hardware cache counters. The project machines (and TCG
virtual machines) have no PMU: there the tool must say so in one line, and
the counting test is skipped with that reason."""
import os
import subprocess
import sys

import pytest

from pybcc.kernel.uapi import PERF_COUNT_SW_CPU_CLOCK, PERF_TYPE_SOFTWARE
from pybcc.tools.lib.runtime import Tool
from pybcc.tools.llcstat import rows
from .badinput import assert_one_line_error
from .toolrun import run_tool

pytestmark = pytest.mark.usefixtures("root")

# the CPU's PMU shows as event source "cpu" (x86: also "cpu_core"/"cpu_atom")
HAS_PMU = any(os.path.exists("/sys/bus/event_source/devices/" + d)
              for d in ("cpu", "cpu_core", "cpu_atom", "armv8_pmuv3", "armv8_pmuv3_0"))
WALK = ("import array\nopen('/proc/self/comm', 'w').write('llc_walker')\n"
        "a = array.array('q', range(8 << 20))\ns = 0\n"
        "for _ in range(3):\n    for i in range(0, len(a), 8): s += a[i]\n")


@pytest.mark.skipif(HAS_PMU, reason="this machine has a PMU")
def test_llcstat_says_there_are_no_cache_counters():
    assert_one_line_error(run_tool("llcstat", "1"), "this machine has no hardware cache "
                                                   "counters (no PMU; a virtual machine?)", code=1)


@pytest.mark.skipif(not HAS_PMU, reason="no hardware cache counters here (no PMU: a virtual "
                                        "machine without one)")
def test_llcstat_counts_a_memory_walk():
    child = subprocess.Popen([sys.executable, "-c", WALK])
    r = run_tool("llcstat", "-c", "1000", "3", timeout=60)
    child.wait()
    assert r.returncode == 0, r.stderr
    mine = [ln.split() for ln in r.stdout.splitlines() if " llc_walker " in ln]
    assert mine, r.stdout
    # 64 MB walked three times a line at a time: millions of references
    assert sum(int(f[3]) for f in mine) >= 1_000_000, mine
    assert r.stdout.splitlines()[-1].startswith("Total References: ")


def test_llcstat_counting_side_on_a_software_clock():
    """The BPF side, fed by a cpu-clock event instead of the missing cache
    counters: each sample adds its period, so a busy process's references
    add up to its CPU time in ns."""
    with Tool("llcstat", {"per_thread": True}) as tool:
        tool.attach("on_cache_ref", ev_type=PERF_TYPE_SOFTWARE, ev_config=PERF_COUNT_SW_CPU_CLOCK,
                    sample_period=1_000_000)
        child = subprocess.Popen([sys.executable, "-c", WALK])
        _, _, usage = os.wait4(child.pid, 0)
        child.returncode = 0
        table = [r for r in rows(tool, True) if r[2] == "llc_walker"]
    cpu_ns = (usage.ru_utime + usage.ru_stime) * 1e9
    assert table and all(pid == tid == child.pid and misses == 0
                         for pid, tid, _, _, _, misses in table), table
    assert 0.5 * cpu_ns <= sum(r[4] for r in table) <= 1.1 * cpu_ns, (table, cpu_ns)


@pytest.mark.parametrize("args, message", [
    (["-c", "0"], "must be positive"),
    (["x"], "invalid number 'x'"),
])
def test_llcstat_bad_input_is_one_line(args, message):
    assert_one_line_error(run_tool("llcstat", *args), message)
