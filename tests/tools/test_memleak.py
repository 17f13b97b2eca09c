import ctypes
import json
import os
import re
import select
import shutil
import signal
import subprocess

import pytest

from .badinput import assert_one_line_error
from .toolrun import RunningTool, run_tool

pytestmark = pytest.mark.usefixtures("root")

# Each leak_* function leaks a known amount through one allocator;
# freed_all allocates through several and frees everything.
LEAKY_C = r"""
#define _GNU_SOURCE
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define N __attribute__((noinline))
static void *keep[64]; static int nkeep;
N static void hold(void *p) { keep[nkeep++] = p; memset(p, 1, 1); }

N void leak_malloc(void)  { for (int i = 0; i < 3; i++) hold(malloc(1001)); }
N void leak_calloc(void)  { for (int i = 0; i < 2; i++) hold(calloc(7, 151)); }
N void leak_realloc(void) { void *p = malloc(50); hold(realloc(p, 2003)); }
N void leak_posix_memalign(void) { void *p; posix_memalign(&p, 64, 3005); hold(p); }
N void leak_aligned_alloc(void) { hold(aligned_alloc(128, 4224)); }
N void leak_valloc(void)  { hold(valloc(5007)); }
N void leak_memalign(void) { hold(memalign(32, 6009)); }
N void leak_pvalloc(void) { hold(pvalloc(7011)); }
N void leak_mmap(void) { hold(mmap(NULL, 3 * 4096, PROT_READ|PROT_WRITE,
                                   MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)); }
N void freed_all(void) {
    for (int i = 0; i < 5; i++) free(malloc(777));
    free(calloc(3, 333));
    free(realloc(malloc(10), 555));
    void *p; posix_memalign(&p, 64, 999); free(p);
    free(memalign(64, 888));
    free(aligned_alloc(64, 640));
    munmap(mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0), 4096);
}
int main(int argc, char **argv) {
    close(1);       /* so the test's pipe ends with memleak, not with us */
    close(2);
    leak_malloc(); leak_calloc(); leak_realloc(); leak_posix_memalign(); leak_aligned_alloc();
    leak_valloc(); leak_memalign(); leak_pvalloc(); leak_mmap(); freed_all();
    sleep(atoi(argv[1]));
    return 0;
}
"""

EXPECTED = {"leak_malloc": (3003, 3), "leak_calloc": (2114, 2), "leak_realloc": (2003, 1),
            "leak_posix_memalign": (3005, 1), "leak_aligned_alloc": (4224, 1),
            "leak_valloc": (5007, 1), "leak_memalign": (6009, 1), "leak_pvalloc": (7011, 1),
            "leak_mmap": (12288, 1)}


@pytest.fixture(scope="module")
def leaky_binary(tmp_path_factory):
    if shutil.which("gcc") is None:
        pytest.skip("gcc is needed to build the leaking test program")
    d = tmp_path_factory.mktemp("memleak")
    (d / "leaky.c").write_text(LEAKY_C)
    # -O0 keeps each loop's calls at one call site, so one stack per leak_* function
    subprocess.run(["gcc", "-O0", "-fno-omit-frame-pointer", "-o", str(d / "leaky"),
                    str(d / "leaky.c")], check=True)
    return str(d / "leaky")


@pytest.fixture
def leaky(leaky_binary, tmp_path):
    """The leaking program under a path of this test's own (a symlink named
    leaky, so comm and the module read as before). The -c command outlives
    memleak, as bcc's does: while the test runs, this process is the
    subreaper its orphans go to, and what runs from that path is killed and
    reaped when the test ends, passed or failed."""
    path = tmp_path / "leaky"
    path.symlink_to(leaky_binary)
    set_child_subreaper(True)
    try:
        yield str(path)
    finally:
        try:
            kill_and_reap(str(path))
        finally:
            set_child_subreaper(False)


def set_child_subreaper(on):
    PR_SET_CHILD_SUBREAPER = 36
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, int(on), 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")


def kill_and_reap(path, timeout=10):
    """SIGKILL every process started from ``path`` (its argv[0]; a zombie
    has no argv left, so also by name among our own children), then reap
    it, or, were it someone else's child, wait until it has exited. A pidfd
    names each process, so a pid reused meanwhile is not hit."""
    want = path.encode() + b"\0"
    for pid in map(int, filter(str.isdigit, os.listdir("/proc"))):
        try:
            pidfd = os.pidfd_open(pid)
        except OSError:
            continue
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                comm, rest = f.read().rsplit(b") ", 1)
            ours = int(rest.split()[1]) == os.getpid() and comm.endswith(b"(leaky")
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if not (ours or f.read().startswith(want)):
                    continue
            signal.pidfd_send_signal(pidfd, signal.SIGKILL)
            assert select.select([pidfd], [], [], timeout)[0], f"{path} (pid {pid}) survived SIGKILL"
            if ours:
                os.waitpid(pid, 0)
        except OSError:             # gone meanwhile
            pass
        finally:
            os.close(pidfd)


def reports(stdout):
    """The last report: {innermost function of ours: (bytes, allocations)}."""
    blocks = stdout.split("Top ")
    last = blocks[-1]
    found = {}
    for m in re.finditer(r"\t(\d+) bytes in (\d+) allocations from stack\n((?:\t\t.*\n?)+)", last):
        frames = m.group(3).split("\n")
        names = [re.search(r"\t\t(?:0x[0-9a-f]{16}\t)?(\S+?)(?:\+0x[0-9a-f]+)? ", f + " ")
                 for f in frames if f.strip()]
        names = [n.group(1) for n in names if n]
        ours = next((n for n in names if n.startswith(("leak_", "freed_"))), None)
        if ours:
            assert ours not in found, last
            found[ours] = (int(m.group(1)), int(m.group(2)))
    return found


def test_memleak_reports_exact_leaks_per_stack(leaky):
    r = run_tool("memleak", "-T", "30", "-c", f"{leaky} 10", "1", "2")
    assert r.returncode == 0, r.stderr
    assert "Executing '%s 10' and tracing the resulting process." % leaky in r.stdout
    assert re.search(r"^\[\d\d:\d\d:\d\d\] Top 30 stacks with outstanding allocations:$",
                     r.stdout, re.M), r.stdout
    assert re.search(r"^\t\t0x[0-9a-f]{16}\tleak_mmap\+0x[0-9a-f]+ \[leaky\]$", r.stdout, re.M)
    assert reports(r.stdout) == EXPECTED, r.stdout


def test_memleak_combined_only_and_size_filter(leaky):
    r = run_tool("memleak", "--combined-only", "-z", "3000", "-Z", "6000", "-T", "30",
                 "-c", f"{leaky} 10", "1", "1")
    assert r.returncode == 0, r.stderr
    want = {k: v for k, v in EXPECTED.items() if 3000 <= v[0] // v[1] <= 6000}
    # as bcc's, a stack whose allocations were all freed stays: freed_all's
    # mmap of 4096 bytes (its other allocations are outside -z/-Z)
    want["freed_all"] = (0, 0)
    assert reports(r.stdout) == want, r.stdout


def test_memleak_combined_only_sort_by_count(leaky):
    r = run_tool("memleak", "--combined-only", "--sort", "count", "-z", "1000", "-Z", "2200",
                 "-T", "2", "-c", f"{leaky} 10", "1", "1")
    assert r.returncode == 0, r.stderr
    # the two stacks with most allocations: malloc(1001) x3 and calloc(7, 151) x2,
    # the most last, as bcc prints them
    assert reports(r.stdout) == {"leak_malloc": (3003, 3), "leak_calloc": (2114, 2)}, r.stdout
    assert r.stdout.index("3003 bytes") > r.stdout.index("2114 bytes"), r.stdout


def test_memleak_kernel_mode_stacks():
    with RunningTool("memleak", "-T", "3", "1", ready="Top 3 stacks") as t:
        line = t.wait_for(lambda ln: ln.endswith("[kernel]"))
    assert "Attaching to kernel allocators, Ctrl+C to quit." in t.lines[0]
    assert line is not None and re.match(r"\t\t0x[0-9a-f]{16}\t\w+", line), t.stdout
    assert re.search(r"^\t\d+ bytes in \d+ allocations from stack$", t.stdout, re.M)
    assert t.proc.returncode == 0, t.stderr


def test_memleak_json_reports_exact_leaks_per_stack(leaky):
    r = run_tool("memleak", "--json", "-T", "30", "-c", f"{leaky} 10", "1", "2")
    assert r.returncode == 0, r.stderr
    assert "Executing '%s 10' and tracing the resulting process." % leaky in r.stderr
    reports = [json.loads(ln) for ln in r.stdout.splitlines()]
    assert len(reports) == 2 and all(rep["unit"] == "bytes" for rep in reports), r.stdout
    found = {}
    for s in reports[-1]["stacks"]:
        assert s["unit"] == "bytes" and s["comm"] == "leaky", s
        assert all(not f["kernel"] for f in s["frames"]), s
        # frames are "name+0xoff [module]", innermost first
        names = [f["function"].split("+")[0] for f in s["frames"]]
        ours = next((n for n in names if n.startswith(("leak_", "freed_"))), None)
        if ours:
            found[ours] = (s["value"], s["allocations"])
    assert found == EXPECTED, r.stdout


def test_memleak_trace_calls_text_and_json(leaky):
    with RunningTool("memleak", "-t", "-c", f"{leaky} 5", ready="Attaching to pid") as t:
        child = re.search(r"Attaching to pid (\d+)", t.stdout).group(1)
        line = t.wait_for(lambda ln: ln.endswith("b'alloc entered, size = 6009')"))
        free = t.wait_for(lambda ln: re.search(r"b'free entered, address = [0-9a-f]+, size = 777'\)$",
                                               ln))
    # bcc prints BPF.trace_fields(): (task, pid, cpu, flags, timestamp, message)
    assert line is not None, t.stdout
    m = re.fullmatch(r"\(b'leaky', (\d+), (\d+), b'\.\.\.11', (\d+\.\d+), "
                     r"b'alloc entered, size = 6009'\)", line)
    assert m and m.group(1) == child and int(m.group(2)) < os.cpu_count(), line
    assert free is not None, t.stdout

    with RunningTool("memleak", "-t", "--json", "-c", f"{leaky} 5",
                     ready="Attaching to pid") as t:
        rec = t.wait_for_record(lambda e: e["event"] == "alloc_enter" and e["size"] == 6009)
        ret = t.wait_for_record(lambda e: e["event"] == "alloc_exit" and e["size"] == 6009)
        free = t.wait_for_record(lambda e: e["event"] == "free_enter" and e["size"] == 777)
    assert rec is not None and rec["comm"] == "leaky", t.stdout + t.stderr
    assert rec["cpu"] < os.cpu_count() and rec["ts"] <= ret["ts"], (rec, ret)
    child = int(re.search(r"Attaching to pid (\d+)", t.stderr).group(1))
    assert rec["pid"] == child and ret["pid"] == child and ret["address"] > 0, t.stdout
    assert free is not None and free["address"] > 0, t.stdout


@pytest.mark.parametrize("args, message", [
    (["-p", "abc"], "invalid pid 'abc'"),
    (["-p", "999999999"], "no process with pid 999999999"),
    (["0"], "must be positive"),
    (["5", "-1"], "must be positive"),
    (["-s", "0"], "must be positive"),
    (["-o", "-5"], "must not be negative"),
    (["-z", "10", "-Z", "5"], "can't be greater than max_size"),
    (["-p", "1", "-c", "true"], "not both"),
    (["--percpu", "-c", "true"], "drop -p/-c"),
    (["-c", "/nonexistent/pybcc-cmd"], "no such command: /nonexistent/pybcc-cmd"),
    (["--sort", "age"], "invalid choice: 'age'"),
])
def test_memleak_bad_input_is_one_line(args, message):
    assert_one_line_error(run_tool("memleak", *args), message)


def test_memleak_duration_ends_after_the_report(leaky):
    r = run_tool("memleak", "--duration", "2", "-c", f"{leaky} 10", "1")
    assert r.returncode == 0, r.stderr
    assert len(re.findall(r"Top 10 stacks with outstanding allocations:", r.stdout)) == 2, r.stdout


def test_memleak_symbols_prefix_names_the_allocators():
    """--symbols-prefix je_ probes je_malloc...: libc has none, said in one line."""
    # (`true`: the command runs on untraced when attaching fails, and this one is done at once)
    r = run_tool("memleak", "--symbols-prefix", "xx_", "-c", "true", "1", "1")
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
    assert "has no function xx_malloc" in r.stderr, r.stderr


def _map_flags(pid, max_entries):
    """map_flags of the map of ``max_entries`` entries that process ``pid``
    holds (from /proc/PID/fdinfo), or None."""
    for fd in os.listdir(f"/proc/{pid}/fdinfo"):
        try:
            with open(f"/proc/{pid}/fdinfo/{fd}") as f:
                info = dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)
        except OSError:
            continue
        if info.get("max_entries") == str(max_entries) and "map_flags" in info:
            return int(info["map_flags"], 16)
    return None


def test_memleak_makes_allocs_entry_by_entry_where_the_kernel_allows():
    """allocs (1,000,000 entries) is made with BPF_F_NO_PREALLOC where tracing
    programs may allocate at run time (6.1 on): preallocated it costs every
    start 20-40 ms of sys time."""
    from pybcc.tools.lib.runtime import tracing_may_allocate
    with RunningTool("memleak", "-T", "1", "10", ready="Attaching to kernel allocators") as t:
        flags = _map_flags(t.proc.pid, 1000000)
    assert flags is not None, t.stderr
    assert bool(flags & 1) == tracing_may_allocate()    # BPF_F_NO_PREALLOC


def test_memleak_kernel_mode_leaves_out_the_bpf_allocators_refills():
    """Where allocs grows entry by entry, the kernel refills its element
    cache from an irq_work whose kmallocs, recorded, emptied the cache
    again: in half the runs the refills fed themselves, thousands of pages
    a second, until allocs was full. Their kmallocs are left out now; the
    slab pages behind them (about one per slab's worth) may still show."""
    from pybcc.tools.lib.runtime import tracing_may_allocate
    if not tracing_may_allocate():
        pytest.skip("allocs is preallocated before Linux 6.1: nothing is refilled")
    r = run_tool("memleak", "-T", "50", "-o", "0", "1", "3")
    assert r.returncode == 0, r.stderr
    refilled = 0
    for m in re.finditer(r"\t\d+ bytes in (\d+) allocations from stack\n((?:\t\t.*\n?)+)",
                         r.stdout.split("Top ")[-1]):
        if "bpf_mem_refill" in m.group(2) or "alloc_bulk" in m.group(2):
            refilled += int(m.group(1))
    assert refilled < 3000, r.stdout
