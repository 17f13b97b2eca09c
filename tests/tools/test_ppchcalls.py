"""ppchcalls: hcalls exist only on powerpc (pSeries). Elsewhere the tool
must say so in one line; its hcall list works everywhere, and its BPF
programs are loaded (verified) on this machine all the same."""
import platform

import pytest

from pybcc.tools.lib.runtime import Tool
from .badinput import assert_one_line_error
from .toolrun import run_tool

pytestmark = pytest.mark.usefixtures("root")

PPC = platform.machine().startswith("ppc")


@pytest.mark.skipif(PPC, reason="this machine is powerpc")
def test_ppchcalls_says_it_is_powerpc_only():
    assert_one_line_error(run_tool("ppchcalls", "-d", "1"),
                          "hcalls) exist only on powerpc; this machine is " + platform.machine(),
                          code=1)


def test_ppchcalls_lists_hcalls_four_a_line():
    r = run_tool("ppchcalls", "-l")
    assert r.returncode == 0, r.stderr
    names = r.stdout.split()
    assert names == sorted(names) and {"H_CEDE", "H_RTAS", "H_PUT_TERM_CHAR"} <= set(names)
    assert all(len(ln.split()) <= 4 for ln in r.stdout.splitlines())


def test_ppchcalls_programs_pass_the_verifier():
    with Tool("ppchcalls", {"by_process": True}) as tool:
        tool.coll.load_program("hcall_entry")
        tool.coll.load_program("hcall_exit")


@pytest.mark.skipif(not PPC, reason="hcalls exist only on powerpc (pSeries guests)")
def test_ppchcalls_counts_hcalls():
    r = run_tool("ppchcalls", "-d", "2", timeout=60)
    assert r.returncode == 0, r.stderr
    assert "%-45s %8s" % ("PPC HCALL", "COUNT") in r.stdout


@pytest.mark.parametrize("args, message", [
    (["--hcall", "H_NOPE"], "Error: hcall 'H_NOPE' not found. Exiting."),
    (["-e", "ENOTANERRNO"], "couldn't map ENOTANERRNO to an errno"),
    (["-T", "0"], "must be positive"),
])
def test_ppchcalls_bad_input_is_one_line(args, message):
    r = run_tool("ppchcalls", *args)
    assert_one_line_error(r, message, code=1 if "--hcall" in args else 2)
