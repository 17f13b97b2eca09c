"""ugc against real runtimes: each collection the marker program asks for."""
import re

from .badinput import assert_one_line_error
from .runtimes import start_java, start_plain, start_python, start_ruby, stop
from .toolrun import RunningTool, run_tool

ROW = re.compile(r"^(\d+\.\d{3}) +(\d+\.\d{2}) +(.*)$")


def test_pythongc_reports_each_collection():
    child = start_python()
    try:
        with RunningTool("pythongc", child.pid, ready="START") as t:
            line = t.wait_for(lambda ln: "gen 0 GC collected" in ln, 20)
    finally:
        stop(child)
    assert line is not None, t.stdout + t.stderr
    assert t.stdout.splitlines()[:2] == [
        f"Tracing garbage collections in python process {child.pid}... Ctrl-C to quit.",
        "START    TIME (us) DESCRIPTION" + " " * 29]
    start, elapsed_us, description = ROW.match(line).groups()
    # the program's gc.collect(0) frees 50 objects in reference cycles (the
    # interpreter's own gen 0 collections free others)
    collected = [int(re.search(r"collected (\d+)", ln).group(1)) for ln in t.lines
                 if "gen 0 GC collected" in ln]
    assert max(collected) >= 45, collected
    assert 0 < float(elapsed_us) < 100000, line


def test_ugc_json_milliseconds_and_filters():
    child = start_python()
    try:
        with RunningTool("ugc", "-l", "python", "-m", "-F", "gen 0", "--json", child.pid,
                         ready="START") as t:
            rec = t.wait_for_record(lambda r: True, 20)
        # no Python collection of this program lasts a second: -M 1000 shows none
        with RunningTool("ugc", "-l", "python", "-M", "1000", child.pid, ready="START") as slow:
            slow.wait_for(lambda ln: False, 2)
    finally:
        stop(child)
    assert rec is not None, t.stderr
    assert rec["description"].startswith("gen 0 GC collected ")
    assert 0 < rec["time_ms"] < 100 and rec["start_s"] >= 0
    assert slow.stdout.splitlines()[1:] == ["START    TIME (us) DESCRIPTION" + " " * 29]


def test_javagc_memory_pools(tmp_path):
    child = start_java(tmp_path)      # System.gc() every 20 ticks
    try:
        with RunningTool("javagc", child.pid, ready="START") as t:
            pool = t.wait_for(lambda ln: re.search(r" used=\d+->\d+ max=\d+->\d+$", ln), 20)
            plain = t.wait_for(lambda ln: ln.endswith("no additional info available"), 5)
    finally:
        stop(child)
    assert pool is not None and plain is not None, t.stdout + t.stderr
    assert "Old" in t.stdout        # the full collection's manager or pool
    assert float(ROW.match(plain).group(2)) > 0


def test_rubygc_mark_and_sweep():
    child = start_ruby()        # GC.start every 20 ticks
    try:
        with RunningTool("ugc", "-l", "ruby", child.pid, ready="START") as t:
            mark = t.wait_for(lambda ln: ln.endswith("GC mark stage"), 20)
            sweep = t.wait_for(lambda ln: ln.endswith("GC sweep stage"), 5)
    finally:
        stop(child)
    assert mark is not None and sweep is not None, t.stdout + t.stderr


def test_nodegc_says_node_has_no_probes():
    child = start_plain("node")
    try:
        r = run_tool("nodegc", child.pid)
    finally:
        stop(child)
    assert_one_line_error(r, "has no node USDT probes", code=1)


def test_ugc_bad_input():
    assert_one_line_error(run_tool("ugc", "-l", "python", "-M", "-5", "1"), "must not be negative")
    assert_one_line_error(run_tool("ugc", "-l", "perl", "1"), "invalid choice")
