import contextlib
import json
import subprocess
import sys

import pytest

from .badinput import assert_one_line_error
from .toolrun import RunningTool, gated_child, release, run_tool

pytestmark = pytest.mark.usefixtures("root")

# Sleeps 100 ms at a time until killed, saying so once it does (folded
# output has no header to wait for; a child still starting under load would
# spend the traced seconds elsewhere).
LOOPER = "import time\nprint('sleeping', flush=True)\nwhile True: time.sleep(0.1)\n"
# Waits for a line on stdin, then sleeps 100 ms five times.
SLEEPER = "import sys, time\nsys.stdin.readline()\nfor _ in range(5): time.sleep(0.1)\n"


def comm_of(pid):
    with open(f"/proc/{pid}/comm") as f:
        return f.read().strip()


def folded(lines):
    out = []
    for ln in lines:
        stack, _, value = ln.rpartition(" ")
        if stack and value.isdigit():
            out.append((stack.split(";"), int(value)))
    return out


@contextlib.contextmanager
def looping_child():
    """A child in LOOPER's loop of sleeps: (its pid, its comm)."""
    child = subprocess.Popen([sys.executable, "-c", LOOPER], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline() == "sleeping\n"
        yield child.pid, comm_of(child.pid)
    finally:
        child.kill()
        child.wait()
        child.stdout.close()


def folded_run(*tool_args):
    """offcputime -f for 3 seconds on a child sleeping in a loop."""
    with looping_child() as (pid, comm):
        r = run_tool("offcputime", "-f", *tool_args, "-p", pid, "3", timeout=60)
    assert r.returncode == 0, r.stderr
    assert "not counted" not in r.stderr, r.stderr
    return comm, folded(r.stdout.splitlines())


def test_offcputime_folded_sleeps_of_one_process():
    comm, stacks = folded_run("-K")
    assert stacks
    assert all(frames[0] == comm for frames, _ in stacks), stacks
    sleeps = [(f, v) for f, v in stacks if any("nanosleep" in x for x in f)]
    # at least a second of the 3 traced is spent in 100 ms sleeps (the
    # rest may go to start-up on a busy machine), never more than 3 s
    assert 1_000_000 <= sum(v for _, v in sleeps) <= 3_500_000, stacks
    assert any(x == "schedule" or x.startswith("__schedule") for f, _ in sleeps for x in f)


def test_offcputime_min_block_time_filters_short_sleeps():
    comm, stacks = folded_run("-m", "1000000")
    assert not any(any("nanosleep" in x for x in f) for f, _ in stacks), stacks


def test_offcputime_multiline_output_names_the_thread():
    with gated_child([sys.executable, "-c", SLEEPER]) as child:
        comm = comm_of(child.pid)
        with RunningTool("offcputime", "-K", "-p", child.pid,
                         ready="Tracing off-CPU time (us) of PID %d by kernel stack... "
                               "Hit Ctrl-C to end." % child.pid) as t:
            release(child)
    assert t.proc.returncode == 0, t.stderr
    owner = "    %-16s %s (%d)" % ("-", comm, child.pid)
    assert owner in t.lines, t.stdout
    i = t.lines.index(owner)
    assert int(t.lines[i + 1]) > 0
    # the frames above it are kernel functions, innermost first
    assert t.lines[i - 1].startswith("    ") and t.lines[i - 1].strip(), t.stdout


def test_offcputime_kernel_threads_with_user_stacks_is_an_error():
    r = run_tool("offcputime", "-k", "-U", "1")
    assert r.returncode == 2
    assert "doesn't make sense" in r.stderr


def test_offcputime_json_sleeps_of_one_process():
    with looping_child() as (pid, comm):
        r = run_tool("offcputime", "--json", "-K", "-p", pid, "3", timeout=60)
    assert r.returncode == 0, r.stderr
    assert "Tracing off-CPU time (us) of PID %d by kernel stack for 3 secs." % pid in r.stderr
    records = [json.loads(ln) for ln in r.stdout.splitlines()]
    assert records and all(rec["pid"] == pid and rec["tid"] == pid and
                           rec["comm"] == comm and rec["unit"] == "us" for rec in records), r.stdout
    # -K: kernel frames only, innermost first (the scheduler before the syscall)
    assert all(f["kernel"] for rec in records for f in rec["frames"]), r.stdout
    sleeps = [rec for rec in records if any("nanosleep" in f["function"] for f in rec["frames"])]
    assert 1_000_000 <= sum(rec["value"] for rec in sleeps) <= 3_500_000, r.stdout
    names = [f["function"] for f in sleeps[-1]["frames"]]
    sched = next(i for i, n in enumerate(names) if n == "schedule" or n.startswith("__schedule"))
    assert sched < next(i for i, n in enumerate(names) if "nanosleep" in n), names


@pytest.mark.parametrize("args, message", [
    (["-p", "abc"], "invalid pid 'abc'"),
    (["-t", "999999999"], "no process with pid 999999999"),
    (["-m", "0"], "must be positive"),
    (["-M", "x"], "invalid number 'x'"),
    (["--state", "-1"], "must not be negative"),
    (["--stack-storage-size", "-3"], "must be positive"),
    (["-f", "--json"], "not allowed with"),
    (["0"], "must be positive"),
])
def test_offcputime_bad_input_is_one_line(args, message):
    assert_one_line_error(run_tool("offcputime", *args), message)


def test_own_program_frames_are_known_by_address(tmp_path, monkeypatch):
    """A stack taken in offcputime's program starts with that program's own
    frame; tools/lib/ownprogs.py knows it from the program's JIT images (so
    the report never reads all of /proc/kallsyms to drop it), and it is the
    frame kallsyms names bpf_prog_*."""
    import time
    from pybcc.symbols import kallsyms
    from pybcc.tools.lib import offcpu
    from pybcc.tools.lib.ownprogs import OwnPrograms
    from pybcc.tools.lib.runtime import Tool
    monkeypatch.setenv("PYBCC_CACHE_DIR", str(tmp_path))
    constants, _ = offcpu.thread_constants(offcpu.parse_args([], "offcputime", "", "", "", 1024))
    constants.update(user_stacks=False, kernel_stacks=True)
    with Tool("offcputime", constants) as tool:
        tool.attach_first("switch_btf", "switch_raw")
        time.sleep(0.3)
        ids = {k.target.kernel_stack_id for k in tool.maps["counts"].keys()}
        firsts = [a[0] for a in map(tool.maps["stack_traces"].walk, ids) if a]
        assert firsts, "no kernel stack recorded"
        hit = kallsyms.KernelSymbols().lookup(firsts[0])
        if not hit or not hit[0].startswith("bpf_prog_"):
            pytest.skip("kallsyms lists no BPF programs here (net.core.bpf_jit_kallsyms)")
        own = OwnPrograms()
        assert [hex(a) for a in firsts if a not in own] == []


def test_bpf_program_frames_are_named_as_kallsyms_names_them(tmp_path, monkeypatch):
    """A frame in any BPF program (another tracer's, in a waker's stack) is
    named from the kernel's program info (tools/lib/ownprogs.BPFPrograms),
    not by reading all of /proc/kallsyms: the name and offset must be those
    /proc/kallsyms gives, for main programs and subprograms (memleak's
    kmalloc calls record_alloc, trace and record_free)."""
    from pybcc.symbols import kallsyms
    from pybcc.tools.lib.ownprogs import BPFPrograms, _images, _program_fds
    from pybcc.tools.lib.runtime import Tool
    from pybcc.tools.lib.stacks import StackPrinter
    monkeypatch.setenv("PYBCC_CACHE_DIR", str(tmp_path))
    with Tool("memleak") as tool:
        tool.attach("kmalloc")
        images = [im for fd in _program_fds() for im in _images(fd)]
        if not images:
            pytest.skip("the kernel shows no JIT images here")
        assert any(i > 0 for _, _, i in images), "memleak's kmalloc has no subprogram"
        programs = BPFPrograms()
        full = kallsyms.KernelSymbols()     # reads all of /proc/kallsyms for these
        if not full.lookup(images[0][0]) or full.lookup(images[0][0])[2] != "bpf":
            pytest.skip("kallsyms lists no BPF programs here (net.core.bpf_jit_kallsyms)")
        for start, end, _ in images:
            for addr in (start, start + 1, end - 1):
                name, offset, module = full.lookup(addr)
                assert programs.lookup(addr) == (name, offset), hex(addr)
        # the stack printer names such a frame without reading kallsyms' tail
        printer = StackPrinter(None, offsets=True, modules=True)
        monkeypatch.setattr(kallsyms, "_read_after_core", lambda path: pytest.fail("read"))
        name, offset, _ = full.lookup(images[0][0] + 2)
        assert printer.ksym(images[0][0] + 2) == "%s+0x%x [bpf]" % (name, offset)
