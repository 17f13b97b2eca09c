"""fsslower and bcc's ext4slower/xfsslower/btrfsslower on real file systems
made on loop devices: each operation of a child, with its bytes, offset and
file name; nothing from the same operations on other file systems."""
import collections
import re

import pytest

from .fsworker import MARK, READS, WRITES, Worker, mounted  # noqa: F401 (fixture)
from .toolrun import RunningTool, bad_input, gated_child, release

pytestmark = pytest.mark.usefixtures("root")
LLONG_MAX = (1 << 63) - 1


def traced(tool, fsdir, fstype, *args, ready, timeout=60):
    with Worker(fsdir, fstype) as w:
        with RunningTool(tool, "-p", w.pid, *args, ready=ready, timeout=timeout) as t:
            w.run()
            # 11 operations on our file: wait for their events to drain
            t.wait_for(lambda ln: sum(MARK + "-file" in x for x in t.lines) >= 11, timeout=10)
    return t


def check_fsslower_json(fstype, mnt, timeout=60):
    t = traced("fsslower", mnt, fstype, "-t", fstype, "-m", "0", "--json", timeout=timeout,
               ready=f"Tracing {fstype} operations... Hit Ctrl-C to end.")
    recs = [r for r in t.json_records() if r["filename"].startswith(MARK)]
    assert {r["filename"] for r in recs} == {MARK + "-file"}, t.stdout   # no other fs
    by_op = collections.defaultdict(list)
    for r in recs:
        by_op[r["t"]].append((r["bytes"], r["offset"]))
        assert r["comm"].startswith("python") and r["lat_ms"] >= 0
    assert sorted(by_op["W"]) == sorted(WRITES), t.stdout
    assert sorted(by_op["R"]) == sorted(READS), t.stdout
    assert by_op["O"] == [(0, 0)], t.stdout
    assert by_op["F"] == [(LLONG_MAX, 0)], t.stdout      # libbpf-tools: fsync's whole range
    assert set(by_op) == {"R", "W", "O", "F"}
    return t


def test_fsslower_json_each_operation_on_its_file_system(mounted, monkeypatch):
    monkeypatch.setenv("PYBCC_DEBUG", "1")
    t = check_fsslower_json(*mounted)
    if "sys_exit" not in t.stderr:     # the syscall path (raw or classic tracepoint)
        assert "fentry" in t.stderr or "kprobe" in t.stderr, t.stderr


@pytest.mark.vm
def test_fsslower_on_the_file_systems_functions(mounted, monkeypatch):
    """Where fentry or kprobes exist: bcc's functions, the same records."""
    from pybcc.kernel import features
    if not (features.has_fentry() or features.has_kprobes()):
        pytest.skip("needs fentry or kprobes (the syscall path is tested above)")
    monkeypatch.setenv("PYBCC_DEBUG", "1")
    fstype, mnt = mounted
    t = check_fsslower_json(fstype, mnt, timeout=300)     # attaching is slow under TCG
    assert "sys_exit" not in t.stderr, t.stderr
    # fentry where the kernel has it and the function has BTF: Debian builds
    # these file systems as modules, whose BTF 5.10 does not publish yet
    from pybcc.kernel import module_btf
    has_btf = module_btf.find(f"{fstype}_file_write_iter", (12,)) is not None   # BTF FUNC
    want = "fentry" if features.has_fentry() and has_btf else "kprobe"
    assert re.search(rf"attached {want} {fstype}_file_write_iter", t.stderr), t.stderr


def test_any_file_system_of_the_kernel_by_name():
    """pybcc: -t takes a file system outside libbpf-tools' list (tmpfs here),
    matched by its type's name through the syscalls."""
    with open("/proc/self/mounts") as f:
        if ("/dev/shm", "tmpfs") not in {tuple(ln.split()[1:3]) for ln in f}:
            pytest.skip("/dev/shm is not a tmpfs mount")
    check_fsslower_json("tmpfs", "/dev/shm")


def test_bcc_slower_text_columns(mounted):
    fstype, mnt = mounted
    name = fstype + "slower"
    title = {"xfs": "XFS"}.get(fstype, fstype)
    t = traced(name, mnt, fstype, "0", ready=f"Tracing {title} operations")
    assert t.lines[0] == f"Tracing {title} operations"
    pid_w = 7 if fstype == "btrfs" else 6
    assert t.lines[1] == "%-8s %-14s %-*s %1s %-7s %-8s %7s %s" % (
        "TIME", "COMM", pid_w, "PID", "T", "BYTES", "OFF_KB", "LAT(ms)", "FILENAME")
    rows = [ln.split() for ln in t.lines[2:] if ln.endswith(MARK + "-file")]
    assert not [ln for ln in t.lines if MARK + "-other" in ln]
    got = sorted((r[3], int(r[4]), int(r[5])) for r in rows)
    want = sorted([("W", b, o // 1024) for b, o in WRITES] + [("R", b, o // 1024) for b, o in READS]
                  + [("O", 0, 0), ("S", 0, 0)])
    assert got == want, t.stdout


def test_threshold_keeps_only_slow_operations(mounted):
    """A large fsync takes milliseconds; cached reads take microseconds."""
    fstype, mnt = mounted
    if fstype != "ext4":
        pytest.skip("one file system is enough for the threshold")
    import sys
    script = ("import os,sys; sys.stdin.readline(); fd=os.open(sys.argv[1], os.O_CREAT|os.O_RDWR); "
              "os.write(fd, b'x' * (8 << 20)); [os.pread(fd, 100, 0) for _ in range(50)]; "
              "os.fsync(fd); os.close(fd); os.unlink(sys.argv[1])")
    with gated_child([sys.executable, "-c", script, f"{mnt}/{MARK}-big"]) as child, \
            RunningTool("ext4slower", "-p", child.pid, "-j", "1", ready="ENDTIME_us") as t:
        release(child, 60)
        t.wait_for(lambda ln: ",S," in ln)
    rows = [ln.split(",") for ln in t.lines[1:] if ln.endswith(MARK + "-big")]
    assert [r[3] for r in rows].count("S") == 1, t.stdout
    assert all(int(r[6]) > 1000 for r in rows), t.stdout           # LATENCY_us over 1 ms
    assert [r[3] for r in rows].count("R") < 50, t.stdout          # fast reads left out


def test_file_systems_this_kernel_lacks_say_so():
    for tool in ("zfsslower", "f2fsslower", "nfsslower"):
        line = bad_input(tool, code=1)
        assert "not in this kernel" in line or "not loaded" in line, line
    assert "zfs is not in this kernel" in bad_input("fsslower", "-t", "zfs", code=1)


def test_bad_input():
    assert "invalid filesystem" in bad_input("fsslower", "-t", "nosuchfs")
    assert "required" in bad_input("fsslower")
    bad_input("fsslower", "-t", "ext4", "-m", "-1")
    bad_input("ext4slower", "abc")
    bad_input("ext4slower", "-p", "0")
    bad_input("btrfsslower", "-d", "0")


@pytest.mark.vm
def test_fentry_programs_on_built_in_functions(mounted):
    """The fentry/fexit programs on functions in vmlinux's own BTF too
    (generic_file_read_iter and generic_file_open, which ext4's read_iter and
    open call), beside the modules' functions above."""
    import time
    from pybcc.kernel import features
    from pybcc.tools.lib import fsops
    from pybcc.tools.lib.runtime import Tool
    fstype, mnt = mounted
    if fstype != "ext4":
        pytest.skip("ext4 calls the generic functions")
    if not features.has_fentry():
        pytest.skip("needs fentry")
    with Worker(mnt, fstype) as w:
        constants = {"fs_magic": fsops.FILESYSTEMS["ext4"].magic, "targ_tgid": w.pid,
                     **fsops.syscall_constants(())}
        with Tool("fsslower", constants, events=True) as tool:
            for op, func in ((fsops.READ, "generic_file_read_iter"),
                             (fsops.OPEN, "generic_file_open")):
                assert fsops.attach_op(tool, op, (func,), True) == "fentry/fexit"
            record, events = tool.record("event"), []
            tool.open_events(lambda data: events.append(record.decode(data)))
            w.run()
            deadline = time.time() + 20
            while len(events) < len(READS) + 1 and time.time() < deadline:
                tool.poll(100)
    mine = [e for e in events if e.file.decode() == MARK + "-file"]
    assert sorted((e.size, e.offset) for e in mine if e.op == fsops.READ) == sorted(READS)
    assert [(e.size, e.offset) for e in mine if e.op == fsops.OPEN] == [(0, 0)]
    assert len(mine) == len(events), events       # nothing from other file systems
