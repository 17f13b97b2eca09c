import os
import shutil
import subprocess

import pytest

from .toolrun import RunningTool, bad_input
from .test_biolatency import block_dir, direct_writes, hist_sections

pytestmark = pytest.mark.usefixtures("root")


def test_bitesize_counts_dd_sizes_under_its_name():
    directory, _ = block_dir()
    with RunningTool("bitesize", ready="Tracing block I/O... Hit Ctrl-C to end.") as t:
        direct_writes(directory, 50, bs="64k")
    assert t.proc.returncode == 0, t.stderr
    sections = hist_sections(t.lines, "Process Name")
    assert "dd" in sections, t.stdout
    by_bucket = {(lo, hi): c for lo, hi, c in sections["dd"]}
    # 64 Kbytes each. The name is the issuing task's: on a busy machine the
    # block layer may dispatch a request later from kblockd (kworker/N:MH),
    # as it did for 1 of 50 beside loadgen.py
    kblockd = sum(c for name, rows in sections.items()
                  if name.startswith("kworker/") and name.endswith("H")
                  for lo, hi, c in rows if (lo, hi) == (64, 127))
    assert by_bucket.get((64, 127), 0) >= 40, t.stdout
    assert by_bucket.get((64, 127), 0) + kblockd >= 50, t.stdout
    assert any(ln.split()[:1] == ["Kbytes"] for ln in t.lines), t.stdout


def dd_named(tmp_path, name):
    """dd under another name: its processes' comm is ``name``, a marker
    that no other process on the machine has."""
    path = tmp_path / name
    path.symlink_to(shutil.which("dd"))
    return str(path)


def test_bitesize_json_interval_has_dd_in_the_64k_bucket(tmp_path):
    """--json with an interval: one object per interval, sections labelled by
    comm, and this test's 64 KiB direct writes in the 64-127 Kbytes bucket;
    -c (this test's own dd name) and -d keep everything else out."""
    directory, disk = block_dir()
    dd = dd_named(tmp_path, "pybcc-bitesize")
    with RunningTool("bitesize", "--json", "-c", "pybcc-bites", "-d", disk, "1",
                     ready="Tracing block I/O") as t:
        direct_writes(directory, 50, bs="64k", dd=dd)
        assert t.wait_for_record(lambda o: o["histograms"], timeout=10), t.stdout
    assert t.proc.returncode == 0, t.stderr
    objs = t.json_records()
    assert all(o["unit"] == "Kbytes" for o in objs), t.stdout
    hists = [h for o in objs for h in o["histograms"]]
    assert {h["labels"]["comm"] for h in hists} == {"pybcc-bitesize"}, t.stdout
    sizes = {}
    for b in (b for h in hists for b in h["buckets"]):
        sizes[b["low"], b["high"]] = sizes.get((b["low"], b["high"]), 0) + b["count"]
    assert sizes.get((64, 127), 0) >= 50, t.stdout
    assert sum(sizes.values()) == sizes[64, 127], t.stdout      # nothing else


def test_bitesize_pid_filter_shows_that_process_only(tmp_path):
    """-p: a shell whose pid is known before it execs dd; only its I/O shows
    (the machine's other I/O, kworkers' included, is left out)."""
    directory, _ = block_dir()
    dd = dd_named(tmp_path, "pybcc-bitesize")
    out = os.path.join(directory, f"pybcc-bitesize-{os.getpid()}")
    child = subprocess.Popen(["sh", "-c", 'read go; exec "$0" if=/dev/zero of="$1" bs=64k '
                              'count=20 oflag=direct', dd, out],
                             stdin=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        with RunningTool("bitesize", "-p", child.pid, ready="Tracing block I/O") as t:
            child.communicate("go\n", timeout=30)
    finally:
        child.kill()
        if os.path.exists(out):
            os.unlink(out)
    assert child.returncode == 0 and t.proc.returncode == 0, t.stderr
    sections = hist_sections(t.lines, "Process Name")
    assert list(sections) == ["pybcc-bitesize"], t.stdout
    by_bucket = {(lo, hi): c for lo, hi, c in sections["pybcc-bitesize"]}
    assert by_bucket.get((64, 127), 0) >= 20, t.stdout


@pytest.mark.parametrize("args", [["-1"], ["1", "x"], ["--duration", "0"],
                                  ["-p", "999999999"], ["-d", "nosuchdisk-pybcc"],
                                  ["-c", "a-name-longer-than-15"]])
def test_bitesize_bad_input_is_one_line(args):
    bad_input("bitesize", *args)
