import os
import subprocess
import sys

import pytest

from .fileio import require_kprobes
from .kmod import load_modules
from .loopdev import loop_device
from .toolrun import RunningTool, bad_input

pytestmark = pytest.mark.usefixtures("root")

# Reads file argv[1] (not in the page cache) in 4 KiB reads: 500 pages, a
# pause of 0.4 s, then 100 more pages (read ahead before the pause).
READER = r"""
import os, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY)
for i in range(500): os.read(fd, 4096)
time.sleep(0.4)
for i in range(100): os.read(fd, 4096)
"""


def cold_file(mnt, dev):
    """An 8 MiB file on the loop file system, out of the page cache."""
    path = os.path.join(mnt, "cold")
    with open(path, "wb") as f:
        f.write(os.urandom(8 << 20))
    subprocess.run(["umount", mnt], check=True)
    subprocess.run(["mount", f"/dev/{dev}", mnt], check=True)
    return path


def hist_rows(lines):
    """{(low, high): count} of the histogram text."""
    out = {}
    for ln in lines:
        if "->" in ln and ":" in ln:
            rng, count = ln.split(":")[0], ln.split(":")[1].split("|")[0]
            low, high = (int(x) for x in rng.split("->"))
            out[(low, high)] = int(count)
    return out


def traced(*args):
    with loop_device(fstype="ext4") as (dev, mnt):
        path = cold_file(mnt, dev)
        with RunningTool("readahead", *args, ready="Tracing") as t:
            subprocess.run([sys.executable, "-c", READER, path], check=True)
    return t


def check_text(t):
    unused = [ln for ln in t.lines if ln.startswith("Read-ahead unused pages: ")]
    assert len(unused) == 1 and int(unused[0].split(": ")[1]) >= 0, t.stdout
    assert "Histogram of read-ahead used page age (ms):" in t.lines
    hist = hist_rows(t.lines)
    assert sum(hist.values()) >= 600, t.stdout           # every page read was read ahead
    # pages read ahead before the 0.4 s pause and used after it (the async
    # window: 40 pages on 6.1's 128 KiB default read-ahead, more on 6.18's)
    assert sum(n for (low, _), n in hist.items() if low >= 256) >= 16, t.stdout


def test_readahead_used_pages_and_their_age():
    check_text(traced())


def test_readahead_json_and_duration():
    with loop_device(fstype="ext4") as (dev, mnt):
        path = cold_file(mnt, dev)
        with RunningTool("readahead", "--json", "-d", "3", ready="Tracing") as t:
            subprocess.run([sys.executable, "-c", READER, path], check=True)
            t.proc.wait(30)
    (rec,) = t.json_records()
    assert set(rec) == {"ts", "unused_pages", "unit", "histograms"} and rec["unit"] == "ms"
    buckets = rec["histograms"][0]["buckets"]
    assert sum(b["count"] for b in buckets) >= 600, rec
    assert sum(b["count"] for b in buckets if b["low"] >= 256) >= 16, rec


def test_readahead_unrolled_twins_count_the_same():
    """The fallback for a kernel with the tracepoints but without bpf_loop():
    the _unrolled programs load and count every page read as used."""
    from pybcc.tools import readahead
    from pybcc.tools.lib.runtime import Tool
    with loop_device(fstype="ext4") as (dev, mnt):
        path = cold_file(mnt, dev)
        with Tool("readahead") as tool:
            try:
                for prog in ("ra_unbounded", "ra_order", "add_to_page_cache",
                             "get_pages_unrolled", "map_pages_unrolled"):
                    tool.attach(prog)
            except readahead.BPFError as e:
                pytest.skip(f"no readahead/filemap tracepoints here: {e}")
            subprocess.run([sys.executable, "-c", READER, path], check=True)
            used = sum(sum(tool.maps["dist"][slot]) for slot in range(readahead.MAX_SLOTS))
    assert used >= 600


@pytest.mark.vm
def test_readahead_kprobe_path(monkeypatch):
    require_kprobes()
    load_modules("loop", "ext4")
    monkeypatch.setenv("PYBCC_DEBUG", "1")
    t = traced()
    assert "kprobe" in t.stderr and "ra" in t.stderr, t.stderr
    check_text(t)


@pytest.mark.parametrize("args", [["-d", "0"], ["-d", "x"], ["5"]])
def test_readahead_bad_input(args):
    bad_input("readahead", *args)
