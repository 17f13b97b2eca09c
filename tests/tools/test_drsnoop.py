import os
import subprocess
import sys
import tempfile
import uuid

import pytest

from .toolrun import RunningTool, bad_input, run_tool

pytestmark = pytest.mark.usefixtures("root")

MEMCG_V1 = "/sys/fs/cgroup/memory"
MEMCG_V2 = "/sys/fs/cgroup"
LIMIT = 8 << 20
FILE_MB = 48

# A child that, on a line from stdin, joins the cgroup argv[1] and reads
# the file argv[2] (not in the page cache) through it; says "done".
READER = r"""
import os, sys
sys.stdin.readline()
with open(os.path.join(sys.argv[1], "cgroup.procs"), "w") as f:
    f.write(str(os.getpid()))
fd = os.open(sys.argv[2], os.O_RDONLY)
while os.read(fd, 1 << 20):
    pass
os.write(1, b"done\n")
sys.stdin.readline()
"""


@pytest.fixture
def small_memcg():
    """A memory cgroup of 8 MB and a 48 MB file outside the page cache."""
    name = "pybcc-drsnoop-" + uuid.uuid4().hex[:8]
    if os.path.exists(os.path.join(MEMCG_V1, "memory.limit_in_bytes")):
        group, limit_file = os.path.join(MEMCG_V1, name), "memory.limit_in_bytes"
    elif "memory" in open(os.path.join(MEMCG_V2, "cgroup.subtree_control")).read():
        group, limit_file = os.path.join(MEMCG_V2, name), "memory.max"
    else:
        pytest.skip("no memory cgroup controller")
    fd, path = tempfile.mkstemp(prefix="pybcc-drsnoop-", dir="/var/tmp")
    try:
        os.write(fd, b"\1" * (FILE_MB << 20))
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        os.close(fd)
        os.mkdir(group)
        with open(os.path.join(group, limit_file), "w") as f:
            f.write(str(LIMIT))
        yield group, path
    finally:
        os.unlink(path)
        if os.path.isdir(group):
            os.rmdir(group)


def read_in_memcg(group, path, *tool_args):
    child = subprocess.Popen([sys.executable, "-c", READER, group, path],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        with RunningTool("drsnoop", "-p", child.pid, *tool_args, ready="LAT(ms)") as t:
            child.stdin.write("go\n")
            child.stdin.flush()
            assert child.stdout.readline() == "done\n"
            t.wait_for(lambda ln: False, timeout=0.5)     # let the last events through
    finally:
        child.kill()
        child.wait()
    return t, child.pid


def test_drsnoop_memcg_reclaim_of_a_reader(small_memcg):
    t, pid = read_in_memcg(*small_memcg, "--memcg", "-T", "-U")
    assert t.header.split() == ["TIME(s)", "UID", "COMM", "PID", "LAT(ms)", "PAGES"]
    rows = [ln.split() for ln in t.lines if ln != t.header]
    assert rows and all(r[3] == str(pid) and r[1] == "0" for r in rows), t.stdout
    assert all(r[2].startswith("python") for r in rows)
    # it read 48 MB through 8 MB: most of it was reclaimed from its cgroup
    reclaimed = sum(int(r[5]) for r in rows) * os.sysconf("SC_PAGE_SIZE")
    assert reclaimed >= (FILE_MB << 20) - 2 * LIMIT, t.stdout
    assert all(0 <= float(r[4]) < 10_000 for r in rows)
    times = [float(r[0]) for r in rows]
    assert times[0] == 0.0 and times == sorted(times)


def test_drsnoop_json_and_default_is_global_reclaim_only(small_memcg):
    t, pid = read_in_memcg(*small_memcg, "--json", "--memcg")
    recs = t.json_records()
    assert recs and set(recs[0]) == {"comm", "pid", "lat_ms", "pages"}
    assert all(r["pid"] == pid for r in recs) and sum(r["pages"] for r in recs) > 0
    # without --memcg, bcc's tracepoints: only global direct reclaim, none here
    t, pid = read_in_memcg(*small_memcg)
    assert [ln for ln in t.lines if ln != t.header] == [], t.stdout


def test_drsnoop_verbose_needs_vm_zone_stat():
    with open("/proc/kallsyms") as f:
        if any(ln.split()[2] in ("vm_zone_stat", "vm_stat") for ln in f):
            pytest.skip("this kernel shows vm_zone_stat: -v works (vm tests cover it)")
    r = run_tool("drsnoop", "-v", "-d", "1")
    assert r.returncode == 1 and "vm_zone_stat" in r.stderr and len(r.stderr.splitlines()) == 1


@pytest.mark.parametrize("args", [["-u", "x"], ["-d", "0"], ["-t", "-1"]])
def test_drsnoop_bad_input(args):
    bad_input("drsnoop", *args)


@pytest.mark.vm
def test_drsnoop_verbose_free_memory(small_memcg):
    with open("/proc/kallsyms") as f:
        if not any(ln.split()[2] in ("vm_zone_stat", "vm_stat") for ln in f):
            pytest.skip("vm_zone_stat is not in /proc/kallsyms here")
    t, pid = read_in_memcg(*small_memcg, "--memcg", "-v")
    assert t.header.split() == ["COMM", "PID", "LAT(ms)", "PAGES", "FREE(KB)"]
    rows = [ln.split() for ln in t.lines if ln != t.header]
    assert rows, t.stdout
    with open("/proc/meminfo") as f:
        total_kb = int(f.readline().split()[1])
    assert all(0 < int(r[4]) <= total_kb for r in rows), t.stdout
