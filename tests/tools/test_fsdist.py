"""fsdist and bcc's ext4dist/xfsdist/btrfsdist on real file systems made on
loop devices: the count of each operation of a child, in one histogram per
operation; nothing from the same operations on other file systems."""
import re
import signal

import pytest

from .fsworker import COUNTS, Worker, mounted  # noqa: F401 (fixture)
from .toolrun import RunningTool, bad_input, run_tool

pytestmark = pytest.mark.usefixtures("root")


def traced(tool, fsdir, fstype, *args, ready, timeout=60):
    """Run the child's operations under the tool; the report comes at Ctrl-C."""
    with Worker(fsdir, fstype) as w:
        t = RunningTool(tool, "-p", w.pid, *args, ready=ready, timeout=timeout)
        try:
            w.run()
        finally:
            assert t.stop(signal.SIGINT) == 0, t.stderr
    return t


def text_counts(text, header):
    """{operation: total count} from histograms under "operation = 'NAME'"."""
    counts, op = {}, None
    for line in text.splitlines():
        m = re.match(r"operation = '(\w+)'$", line)
        if m:
            op = m.group(1)
            continue
        m = re.match(r"\s+(\d+) -> (\d+)\s+: (\d+)\s+\|", line)
        if m and op:
            counts[op] = counts.get(op, 0) + int(m.group(3))
        elif line.strip() and op and not line.strip().startswith(header):
            raise AssertionError(f"unexpected line {line!r}")
    return counts


def check_fsdist_json(fstype, mnt, timeout=60):
    t = traced("fsdist", mnt, fstype, "-t", fstype, "--json", timeout=timeout,
               ready=f"Tracing {fstype} operation latency... Hit Ctrl-C to end.")
    [rec] = t.json_records()
    assert rec["unit"] == "usecs"
    got = {h["labels"]["operation"]: sum(b["count"] for b in h["buckets"])
           for h in rec["histograms"]}
    want = dict(COUNTS)
    if fstype in ("xfs", "btrfs"):     # libbpf-tools times getattr for ext4/nfs/f2fs/fuse only
        del want["getattr"]
    assert got == want, rec
    return t


def test_fsdist_json_counts_each_operation(mounted):
    check_fsdist_json(*mounted)


@pytest.mark.vm
def test_fsdist_on_the_file_systems_functions(mounted, monkeypatch):
    """Where fentry or kprobes exist: bcc's functions, the same counts."""
    from pybcc.kernel import features
    if not (features.has_fentry() or features.has_kprobes()):
        pytest.skip("needs fentry or kprobes (the syscall path is tested above)")
    monkeypatch.setenv("PYBCC_DEBUG", "1")
    t = check_fsdist_json(*mounted, timeout=300)     # attaching is slow under TCG
    assert "sys_exit" not in t.stderr, t.stderr


def test_bcc_dist_text_and_milliseconds(mounted):
    fstype, mnt = mounted
    if fstype == "f2fs":
        pytest.skip("bcc has no f2fsdist")
    title = {"xfs": "XFS"}.get(fstype, fstype)
    t = traced(fstype + "dist", mnt, fstype, "-m",
               ready=f"Tracing {title} operation latency... Hit Ctrl-C to end.")
    out = t.stdout
    assert "operation = 'read'\n     msecs               : count     distribution" in out, out
    counts = text_counts(out.split("\n", 1)[1], "msecs")
    want = {k: v for k, v in COUNTS.items() if k != "getattr"}   # bcc: no getattr
    assert counts == want, out
    # the sections come in bcc's order, each after a blank line
    assert [ln for ln in t.lines if ln.startswith("operation")] == \
        ["operation = 'read'", "operation = 'write'", "operation = 'open'", "operation = 'fsync'"]


def test_intervals_with_timestamps():
    r = run_tool("ext4dist", "1", "2")
    assert r.returncode == 0, r.stderr
    stamps = [ln for ln in r.stdout.splitlines() if re.fullmatch(r"\d\d:\d\d:\d\d:", ln)]
    assert len(stamps) == 2, r.stdout
    r = run_tool("ext4dist", "-T", "1", "1")
    assert not re.search(r"^\d\d:\d\d:\d\d:$", r.stdout, re.M), r.stdout
    r = run_tool("fsdist", "-t", "ext4", "-T", "1", "1")
    assert re.search(r"^\d\d:\d\d:\d\d\s*$", r.stdout, re.M), r.stdout


def test_file_systems_this_kernel_lacks_say_so():
    assert "zfs is not in this kernel" in bad_input("zfsdist", code=1)
    for tool in ("nfsdist",):
        line = bad_input(tool, code=1)
        assert "not in this kernel" in line or "not loaded" in line, line


def test_bad_input():
    assert "invalid filesystem" in bad_input("fsdist", "-t", "nosuchfs")
    assert "required" in bad_input("fsdist")
    bad_input("fsdist", "-t", "ext4", "0")
    bad_input("ext4dist", "-p", "abc")
    bad_input("xfsdist", "1", "x")


def test_classic_tracepoints_where_raw_ones_are_not_used(mounted):
    """Architectures other than x86/arm64 time syscalls through the classic
    raw_syscalls tracepoints: the same counts."""
    from pybcc.output.histogram import collect_sections
    from pybcc.tools.lib import fsops
    from pybcc.tools.lib.runtime import Tool
    fstype, mnt = mounted
    if fstype != "ext4":
        pytest.skip("one file system is enough for the fallback")
    with Worker(mnt, fstype) as w:
        constants = {"fs_magic": fsops.FILESYSTEMS[fstype].magic, "targ_tgid": w.pid,
                     **fsops.syscall_constants(range(5))}
        with Tool("fsdist", constants) as tool:
            tool.attach("fs_sys_exit")
            tool.attach("fs_sys_enter")
            w.run()
            hists = collect_sections(tool.maps["hists"], lambda k: k.op)
    assert {fsops.OP_NAMES[op]: sum(v) for op, v in hists.items()} == COUNTS
