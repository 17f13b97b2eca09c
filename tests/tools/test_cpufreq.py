"""cpufreq: the tool needs a cpufreq driver (these machines have none: it
must say so in one line). Its BPF side is checked here anyway: the sampler
files samples of a busy process under the frequency set for its CPU."""
import os
import re
import subprocess
import sys

import pytest

from pybcc.kernel.uapi import PERF_COUNT_SW_CPU_CLOCK, PERF_TYPE_SOFTWARE
from pybcc.tools.cpufreq import CPUFREQ, hist_text, histograms
from pybcc.tools.lib.runtime import Tool
from .badinput import assert_one_line_error
from .toolrun import run_tool

pytestmark = pytest.mark.usefixtures("root")

HAS_DRIVER = os.path.exists(CPUFREQ % 0)
SPIN = "import time\nopen('/proc/self/comm', 'w').write('freq_spinner')\n" \
       "end = time.time() + 1.5\nwhile time.time() < end: pass\n"


@pytest.mark.skipif(HAS_DRIVER, reason="this machine has a cpufreq driver")
def test_cpufreq_says_the_driver_is_missing():
    assert_one_line_error(run_tool("cpufreq", "-d", "1"),
                          "this machine has no CPU frequency scaling driver", code=1)


@pytest.mark.skipif(not HAS_DRIVER, reason="no cpufreq driver on this machine "
                                           "(no /sys/devices/system/cpu/cpu0/cpufreq)")
def test_cpufreq_samples_a_busy_process():
    child = subprocess.Popen([sys.executable, "-c", SPIN])
    r = run_tool("cpufreq", "-d", "2", timeout=60)
    child.wait()
    assert r.returncode == 0, r.stderr
    assert "     freq_spinner  : count     distribution" in r.stdout, r.stdout
    assert "     syswide       : count     distribution" in r.stdout, r.stdout


def test_cpufreq_sampler_files_samples_under_the_cpus_frequency():
    with Tool("cpufreq") as tool:
        for cpu in range(os.cpu_count()):
            tool.maps["freqs_mhz"][cpu] = 2400 + 200 * (cpu % 2)
        tool.attach("do_sample", ev_type=PERF_TYPE_SOFTWARE, ev_config=PERF_COUNT_SW_CPU_CLOCK,
                    sample_freq=199)
        child = subprocess.Popen([sys.executable, "-c", SPIN])
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = status
        per_comm, syswide = histograms(tool)
        mine = per_comm["freq_spinner"]
    cpu_seconds = usage.ru_utime + usage.ru_stime
    # busy for its CPU time at 199 Hz (less the time before its name was
    # set), on CPUs at 2400 or 2600 MHz (slots of 200 MHz)
    assert 0.5 * 199 * cpu_seconds <= mine[12] + mine[13] == sum(mine) <= 1.2 * 199 * cpu_seconds, \
        (mine, cpu_seconds)
    assert syswide[12] + syswide[13] == sum(syswide) >= sum(mine)
    text = hist_text(mine, "freq_spinner")
    assert re.match(r"     freq_spinner  : count     distribution\n        2[46]00       : ", text), text


@pytest.mark.parametrize("args, message", [
    (["-d", "0"], "must be positive"),
    (["-f", "x"], "invalid number 'x'"),
])
def test_cpufreq_bad_input_is_one_line(args, message):
    assert_one_line_error(run_tool("cpufreq", *args), message)
