import pytest

from .toolrun import RunningTool, run_bad_input
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
    assert by_bucket.get((64, 127), 0) >= 50, t.stdout      # 64 Kbytes each
    assert any(ln.split()[:1] == ["Kbytes"] for ln in t.lines), t.stdout


def test_bitesize_json_interval_has_dd_in_the_64k_bucket():
    """--json with an interval: one object per interval, sections labelled by
    comm, and this test's 64 KiB direct writes in the 64-127 Kbytes bucket."""
    directory, _ = block_dir()
    with RunningTool("bitesize", "--json", "1", ready="Tracing block I/O") as t:
        direct_writes(directory, 50, bs="64k")
        assert t.wait_for_record(lambda o: any(h["labels"]["comm"] == "dd"
                                               for h in o["histograms"]), timeout=10), t.stdout
    assert t.proc.returncode == 0, t.stderr
    objs = t.json_records()
    assert all(o["unit"] == "Kbytes" for o in objs), t.stdout
    dd = [b for o in objs for h in o["histograms"] if h["labels"]["comm"] == "dd"
          for b in h["buckets"]]
    assert sum(b["count"] for b in dd if (b["low"], b["high"]) == (64, 127)) >= 50, t.stdout


@pytest.mark.parametrize("args", [["-1"], ["1", "x"], ["--duration", "0"]])
def test_bitesize_bad_input_is_one_line(args):
    run_bad_input("bitesize", *args)
