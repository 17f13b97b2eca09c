"""criticalstat needs the preemptirq tracepoints (CONFIG_PREEMPTIRQ_TRACEPOINTS),
which this kernel and stock distribution kernels lack: there it must say so
in one line. Its BPF programs are loaded (verified) here all the same."""
import pytest

from pybcc.tools.criticalstat import EVENTS, have_tracepoints
from pybcc.tools.lib.runtime import Tool
from .badinput import assert_one_line_error
from .toolrun import RunningTool, run_tool

pytestmark = pytest.mark.usefixtures("root")


@pytest.mark.skipif(have_tracepoints(), reason="this kernel has the preemptirq tracepoints")
def test_criticalstat_says_the_tracepoints_are_missing():
    assert_one_line_error(run_tool("criticalstat"),
                          "CONFIG_PREEMPTIRQ_TRACEPOINTS is not set", code=1)


def test_criticalstat_programs_pass_the_verifier():
    with Tool("criticalstat", {"min_ns": 1000}, events=True) as tool:
        for name in ("cpu_idle",) + EVENTS:
            tool.coll.load_program(name)


@pytest.mark.skipif(not have_tracepoints(), reason="CONFIG_PREEMPTIRQ_TRACEPOINTS is not set "
                                                   "on this kernel: no preemptirq tracepoints")
def test_criticalstat_reports_irqs_off_sections():
    # with a 1 us threshold, some section with IRQs off shows within seconds
    with RunningTool("criticalstat", "-i", "-d", "1",
                     ready="Finding critical section with IRQ disabled for > 1us") as t:
        found = t.wait_for(lambda ln: ln.startswith("TASK: "), timeout=20)
    assert found, t.stdout
    i = t.lines.index(found)
    assert t.lines[i + 2].startswith("Section start: ") and " -> " in t.lines[i + 2]
    assert t.lines[i + 3].startswith("Section end:   ")


@pytest.mark.parametrize("args, message", [
    (["-d", "0"], "must be positive"),
    (["-d", "x"], "invalid number 'x'"),
])
def test_criticalstat_bad_input_is_one_line(args, message):
    assert_one_line_error(run_tool("criticalstat", *args), message)
