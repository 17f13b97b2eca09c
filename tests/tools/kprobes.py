"""The guard of tests that need kprobes: they skip where the kernel has none,
and fail in the VM (scripts/vm-tests.sh sets PYBCC_VMTEST), whose stock
kernel must have them."""
import os

import pytest

from pybcc.kernel import features

from .toolrun import RunningTool


def require_kprobes():
    if not features.has_kprobes():
        if os.environ.get("PYBCC_VMTEST"):
            pytest.fail("the VM kernel should have kprobes")
        pytest.skip("kprobes are not available on this kernel")


def without_kprobes_says_so(run_tool, tool, *args):
    """On a kernel without kprobes, a kernel function makes ``tool`` exit 1
    with one line that says so."""
    if features.has_kprobes():
        pytest.skip("this kernel has kprobes")
    r = run_tool(tool, *args)
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 1 and len(lines) == 1 and "kprobes are not available" in lines[0], \
        r.stderr


def trace_child(tool, child, *args, ready="Hit Ctrl-C to end.", done=None):
    """``tool -p CHILD ARGS`` (CHILD: a Popen waiting for a line on stdin)
    while the child runs; stopped once the child has exited and ``done``
    (a predicate of the tool's output lines) holds. Slow timeouts: the VM
    runs under TCG."""
    t = RunningTool(tool, "-p", child.pid, *args, ready=ready, timeout=300)
    child.communicate("go\n")
    if done is not None:
        t.wait_for(lambda _: done(t.lines), 60)
    t.stop(timeout=120)
    return t
