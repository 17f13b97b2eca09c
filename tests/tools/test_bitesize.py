import pytest

from .toolrun import RunningTool
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
