"""The guard of tests that need kprobes: they skip where the kernel has none,
and fail in the VM (scripts/vm-tests.sh sets PYBCC_VMTEST), whose stock
kernel must have them."""
import os

import pytest

from pybcc.kernel import features


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
