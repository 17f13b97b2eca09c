import os
import re
import subprocess
import tempfile

import pytest

from .toolrun import RunningTool, bad_input

pytestmark = pytest.mark.usefixtures("root")

HIST_ROW = re.compile(r"^\s*(\d+) -> (\d+)\s+: (\d+)\s+\|")


def block_dir():
    """(directory on a real block device, its disk name), or skip."""
    for d in (tempfile.gettempdir(), "/var/tmp", os.getcwd(), os.path.expanduser("~")):
        try:
            dev = os.stat(d).st_dev
        except OSError:
            continue
        sysdir = f"/sys/dev/block/{os.major(dev)}:{os.minor(dev)}"
        if os.major(dev) == 0 or not os.path.exists(sysdir):
            continue
        if os.path.exists(os.path.join(sysdir, "partition")):
            sysdir = os.path.join(sysdir, "..")      # the disk holding the partition
        name = os.path.basename(os.path.realpath(sysdir))
        return d, name
    pytest.skip("no directory on a real block device (overlay/tmpfs only)")


def direct_writes(directory, count=200, bs="4k", dd="dd"):
    """``count`` O_DIRECT writes of ``bs`` bytes each, synchronously, by
    ``dd`` (a path to run it under another name)."""
    fd, path = tempfile.mkstemp(dir=directory, prefix="pybcc-dd-")
    os.close(fd)
    try:
        r = subprocess.run([dd, "if=/dev/zero", f"of={path}", f"bs={bs}", f"count={count}",
                            "oflag=direct"], capture_output=True, text=True)
        if r.returncode != 0:
            pytest.skip(f"O_DIRECT writes fail here: {r.stderr.strip()}")
    finally:
        os.unlink(path)


def hist_sections(lines, header):
    """{section name: [(low, high, count)]} from '<header> = NAME' sections."""
    out, cur = {}, None
    for ln in lines:
        if ln.startswith(header + " = "):
            cur = out.setdefault(ln.split(" = ", 1)[1], [])
        elif cur is not None and HIST_ROW.match(ln):
            cur.append(tuple(map(int, HIST_ROW.match(ln).groups())))
    return out


def test_biolatency_per_disk_histogram_counts_direct_writes():
    directory, disk = block_dir()
    with RunningTool("biolatency", "-D", ready="Tracing block device I/O") as t:
        direct_writes(directory, 200)
    assert t.proc.returncode == 0, t.stderr
    sections = hist_sections(t.lines, "disk")
    assert disk in sections, t.stdout
    rows = sections[disk]
    assert sum(c for _, _, c in rows) >= 200, t.stdout
    # usecs buckets: every write finished within 10 seconds, none took 0
    assert all(high < 10_000_000 for _, high, c in rows if c), t.stdout
    assert rows[0][:2] == (0, 1)
    header = t.lines[t.lines.index(f"disk = {disk}") + 1]
    assert header.split() == ["usecs", ":", "count", "distribution"]


def test_biolatency_flags_and_interval_count_stop_by_themselves():
    directory, _ = block_dir()
    with RunningTool("biolatency", "-F", "-m", "-e", "2", "1", ready="Tracing") as t:
        direct_writes(directory, 100)
        assert t.wait_for(lambda ln: ln.startswith("avg = "), timeout=10), t.stdout
        t.proc.wait(10)
    assert t.proc.returncode == 0
    sections = hist_sections(t.lines, "flags")
    writes = {k: v for k, v in sections.items() if k.endswith("Write")}
    assert sum(c for rows in writes.values() for _, _, c in rows) >= 100, t.stdout
    assert any(ln.split()[0] == "msecs" for ln in t.lines if ln.startswith("     ")), t.stdout


def test_biolatency_json_per_disk_counts_direct_writes():
    """--json: one object per interval, the disk as a label, bcc's log2 bounds,
    and the -e total/count; -d keeps other disks out."""
    directory, disk = block_dir()
    with RunningTool("biolatency", "--json", "-D", "-e", "-d", disk,
                     ready="Tracing block device I/O") as t:
        direct_writes(directory, 200)
    assert t.proc.returncode == 0, t.stderr
    objs = t.json_records()
    assert objs and all(o["unit"] == "usecs" and "ts" in o for o in objs), t.stdout
    hists = [h for o in objs for h in o["histograms"]]
    assert {h["labels"]["disk"] for h in hists} == {disk}, t.stdout
    buckets = [b for h in hists for b in h["buckets"]]
    assert sum(b["count"] for b in buckets) >= 200, t.stdout
    assert all(b["high"] == 1 or b["high"] == 2 * b["low"] - 1 for b in buckets), t.stdout
    ext = [o["extension"] for o in objs]
    assert sum(e["count"] for e in ext) >= 200, t.stdout
    assert sum(e["total"] for e in ext) > 0, t.stdout


@pytest.mark.parametrize("args", [["-1"], ["1", "x"], ["-d", "nosuchdisk-pybcc"],
                                  ["--duration", "-2"]])
def test_biolatency_bad_input_is_one_line(args):
    bad_input("biolatency", *args)


def test_biolatency_j_is_bccs_dict_print():
    """-j stays bcc's: a Python dict per histogram (not JSON), no "Tracing" line."""
    import ast
    directory, disk = block_dir()
    # nothing is printed before the first report: write until the tool ends
    with RunningTool("biolatency", "-j", "-D", "-d", disk, "1", "2") as t:
        while t.proc.poll() is None:
            direct_writes(directory, 20)
    assert t.proc.returncode == 0, t.stderr
    dicts = [ast.literal_eval(ln) for ln in t.lines if ln.startswith("{")]
    assert dicts and not any(ln.startswith("Tracing") for ln in t.lines), t.stdout
    assert all(d["val_type"] == "usecs" and d["disk"] == disk for d in dicts), t.stdout
    assert sum(b["count"] for d in dicts for b in d["data"]) >= 20, t.stdout
    assert set(dicts[0]["data"][0]) == {"interval-start", "interval-end", "count"}, t.stdout


def test_biolatency_cgroup_filter():
    """-Q -c: only requests created in the cgroup (dd moved into it), not
    the test's own."""
    from .loopdev import direct_io, loop_device
    from .test_biosnoop import cgroup2_dir
    cg = cgroup2_dir()
    try:
        with loop_device(16) as (dev, _):
            with RunningTool("biolatency", "-Q", "-c", cg, "-d", dev, "--json",
                             ready="Tracing") as t:
                direct_io(dev, range(10))
                dd = subprocess.Popen(["sh", "-c", f'echo $$ > {cg}/cgroup.procs && exec dd '
                                       f'if=/dev/zero of=/dev/{dev} bs=4k count=7 '
                                       'oflag=direct 2>/dev/null'])
                assert dd.wait() == 0
    finally:
        os.rmdir(cg)
    (rec,) = t.json_records()
    assert sum(b["count"] for h in rec["histograms"] for b in h["buckets"]) == 7, rec
