import re

import pytest

from .toolrun import RunningTool
from .test_biolatency import block_dir, direct_writes, hist_sections

pytestmark = pytest.mark.usefixtures("root")

ROW = re.compile(r"^(\S.{0,25}?)\s+(\d+)$")


def rows(lines, header):
    """[(name, total)] of the table under ``header``."""
    out, on = [], False
    for ln in lines:
        if ln.split()[:1] == [header]:
            on = True
            continue
        if on:
            m = ROW.match(ln)
            if not m:
                break
            out.append((m.group(1).strip(), int(m.group(2))))
    return out


def test_hardirqs_counts_block_device_interrupts():
    # O_DIRECT writes complete through the disk's interrupt handler
    directory, _ = block_dir()
    with RunningTool("hardirqs", "-C", ready="Tracing hard irq events... Hit Ctrl-C to end.") as t:
        direct_writes(directory, 100)
    assert t.proc.returncode == 0, t.stderr
    header = next(ln for ln in t.lines if ln.startswith("HARDIRQ"))
    assert header.split() == ["HARDIRQ", "TOTAL_count"]
    table = rows(t.lines, "HARDIRQ")
    assert table and sum(n for _, n in table) >= 50, t.stdout
    counts = [n for _, n in table]
    assert counts == sorted(counts)          # ascending, as bcc


def test_hardirqs_time_histograms_per_handler():
    directory, _ = block_dir()
    with RunningTool("hardirqs", "-d", "-N", "-T", "2", "1",
                     ready="Tracing hard irq event time") as t:
        direct_writes(directory, 100)
        t.proc.wait(15)
    assert t.proc.returncode == 0, t.stderr
    sections = hist_sections(t.lines, "hardirq")
    assert sections, t.stdout
    assert any(sum(c for _, _, c in r) >= 50 for r in sections.values()), t.stdout
    assert any(ln.split()[:1] == ["nsecs"] for ln in t.lines)


def test_hardirqs_count_with_time_options_is_rejected():
    from .toolrun import run_tool
    r = run_tool("hardirqs", "-C", "-d")
    assert r.returncode == 1 and "can't be used with time-based options" in r.stderr
