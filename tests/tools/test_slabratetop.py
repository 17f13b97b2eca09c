import fcntl
import os

import pytest

from .badinput import assert_one_line_error
from .toolrun import RunningTool, run_tool

pytestmark = pytest.mark.usefixtures("root")

LEASES = 200


def lease_cache():
    """(name, object size) of the slab cache file leases come from: a quiet
    one (file_lease_cache since 6.9, file_lock_cache before)."""
    sizes = {}
    with open("/proc/slabinfo") as f:
        for line in f:
            fields = line.split()
            sizes[fields[0]] = fields[3]
    for name in ("file_lease_cache", "file_lock_cache"):
        if name in sizes:
            return name, int(sizes[name])
    pytest.skip("no file lease slab cache in /proc/slabinfo")


def take_leases(directory):
    """LEASES read leases, one per file: one allocation each from the cache."""
    fds = []
    for i in range(LEASES):
        path = os.path.join(directory, f"f{i}")
        open(path, "w").close()
        fd = os.open(path, os.O_RDONLY)
        fds.append(fd)
        fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_RDLCK)
    return fds


def run_leases(tmp_path, *args):
    cache, size = lease_cache()
    with RunningTool("slabratetop", "-C", "-r", "1000", *args, "1", ready="Tracing",
                     timeout=300) as t:
        n = len(t.lines)
        fds = take_leases(str(tmp_path))
        for fd in fds:
            os.close(fd)
        t.wait_for(lambda ln: len([x for x in t.lines[n:] if "loadavg" in x or
                                   x.startswith("{")]) >= 2, timeout=60)
    return cache, size, t


def test_slabratetop_counts_lease_allocations(tmp_path):
    cache, size, t = run_leases(tmp_path)
    assert any(ln.split() == ["CACHE", "ALLOCS", "BYTES"] for ln in t.lines), \
        t.stdout + t.stderr
    rows = [ln.split() for ln in t.lines if ln.split()[:1] == [cache]]
    allocs = sum(int(r[1]) for r in rows)
    # others take a lease now and then: a few more, never fewer
    assert LEASES <= allocs <= LEASES + 20, t.stdout
    assert all(int(r[2]) == int(r[1]) * size for r in rows), (size, rows)


def test_slabratetop_json(tmp_path):
    cache, size, t = run_leases(tmp_path, "--json")
    recs = t.json_records()
    assert recs and set(recs[0]) == {"ts", "loadavg", "rows"}
    rows = [r for rec in recs for r in rec["rows"] if r["cache"] == cache]
    assert LEASES <= sum(r["allocs"] for r in rows) <= LEASES + 20, rows
    assert all(r["bytes"] == r["allocs"] * size for r in rows)


@pytest.mark.vm
def test_slabratetop_stock_kernel(tmp_path):
    """Before 6.1 the tracepoint has no cache name: bcc's kprobe."""
    test_slabratetop_counts_lease_allocations(tmp_path)


def test_slabratetop_count_and_maxrows():
    r = run_tool("slabratetop", "-C", "-r", "2", "1", "2")
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("loadavg:") == 2 and r.stdout.rstrip().endswith("Detaching...")
    lines = r.stdout.splitlines()
    for i, ln in enumerate(lines):
        if ln.startswith("CACHE "):
            rows = []
            for row in lines[i + 1:]:
                if not row or row == "Detaching...":
                    break
                rows.append(row)
            assert 1 <= len(rows) <= 2, r.stdout


@pytest.mark.parametrize("args", [["0"], ["1", "0"], ["-r", "0"], ["-r", "x"]])
def test_slabratetop_bad_input(args):
    assert_one_line_error(run_tool("slabratetop", *args), "error:")
