import re

import pytest

from .toolrun import RunningTool, bad_input
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


def test_hardirqs_json_counts_and_histograms():
    """--json: rows {hardirq, total} per interval with -C, histograms labelled
    by handler with -d; this test's O_DIRECT writes cause the interrupts."""
    directory, _ = block_dir()
    with RunningTool("hardirqs", "--json", "-C", ready="Tracing hard irq events") as t:
        direct_writes(directory, 100)
    assert t.proc.returncode == 0, t.stderr
    [obj] = t.json_records()
    assert obj["unit"] == "count" and isinstance(obj["ts"], float), t.stdout
    assert all(set(r) == {"hardirq", "total"} for r in obj["rows"]), t.stdout
    assert sum(r["total"] for r in obj["rows"]) >= 50, t.stdout
    totals = [r["total"] for r in obj["rows"]]
    assert totals == sorted(totals), t.stdout

    with RunningTool("hardirqs", "--json", "-d", "-N", "2", "1", ready="Tracing hard irq") as t:
        direct_writes(directory, 100)
        t.proc.wait(15)
    assert t.proc.returncode == 0, t.stderr
    [obj] = t.json_records()
    assert obj["unit"] == "nsecs", t.stdout
    assert any(sum(b["count"] for b in h["buckets"]) >= 50 for h in obj["histograms"]), t.stdout
    assert all(h["labels"]["hardirq"] for h in obj["histograms"]), t.stdout


@pytest.mark.parametrize("args", [["-c", "99999"], ["-c", "x"], ["-1"],
                                  ["--duration", "-1"]])
def test_hardirqs_bad_input_is_one_line(args):
    bad_input("hardirqs", *args)
