"""ucalls against real runtimes: the marker method's call count, latency and
the process's syscalls, from each runtime Debian ships with USDT probes."""
import json
import re
import time

import pytest

from .badinput import assert_one_line_error
from .runtimes import (second_line, start_java, start_php, start_plain, start_python,
                       start_ruby, stop)
from .toolrun import RunningTool, run_tool


def _calls(t, method, timeout=20):
    """(line, '# CALLS') of ``method`` in the second interval that shows it."""
    line = second_line(t, lambda ln: ln.startswith(method + " "), timeout)
    return line, int(line.split()[1])


def test_pythoncalls_counts_the_marker_each_interval():
    child = start_python()
    try:
        with RunningTool("pythoncalls", child.pid, 1, ready="Tracing calls") as t:
            line, n = _calls(t, "<string>.pybcc_tick")
    finally:
        stop(child)
    assert t.header == f"Tracing calls in process {child.pid} (language: python)... Ctrl-C to quit."
    assert "METHOD" + " " * 46 + "# CALLS" in t.stdout
    # 100 calls a second (10 ms sleeps), in a one-second interval
    assert 40 <= n <= 110, line
    assert re.match(r"<string>\.pybcc_tick +\d+$", line), line


def test_ucalls_latency_json_and_syscalls():
    child = start_python()
    try:
        with RunningTool("ucalls", "-l", "python", "-L", "-S", "-m", "--json", child.pid, 1,
                         ready="Tracing calls") as t:
            rec = json.loads(second_line(t, lambda ln: '"<string>.pybcc_outer"' in ln))
    finally:
        stop(child)
    rows = {r["method"]: r for r in rec["rows"]}
    outer, tick = rows["<string>.pybcc_outer"], rows.get("<string>.pybcc_tick")
    assert 40 <= outer["calls"] <= 110 and tick is not None, rows
    # pybcc_outer's time includes its call of pybcc_tick; both are under 1 ms a call
    assert 0 < tick["time_ms"] < outer["time_ms"] < outer["calls"] * 1.0, rows
    # time.sleep(0.01) is a clock_nanosleep syscall of ~10 ms
    sleep = rows["clock_nanosleep"]
    assert 40 <= sleep["calls"] <= 110, rows
    assert 9.0 <= sleep["time_ms"] / sleep["calls"] <= 30.0, sleep
    assert rec["pid"] == child.pid and rec["language"] == "python"


def test_ucalls_syscalls_only_with_language_none():
    child = start_python()
    try:
        with RunningTool("ucalls", "-l", "none", "-S", "-T", "3", child.pid, 1,
                         ready="Tracing calls") as t:
            line, n = _calls(t, "clock_nanosleep")
    finally:
        stop(child)
    assert 40 <= n <= 110, line
    assert "Attached kernel tracepoints for syscall tracing." in t.stdout
    assert "pybcc_tick" not in t.stdout


@pytest.mark.parametrize("lang,start,method", [
    ("java", "java", "PybccTick.pybccTick"),
    ("ruby", "ruby", "PybccK.pybcc_tick"),
    ("php", "php", "PybccK.pybcc_tick"),
])
def test_ucalls_latency_per_runtime(lang, start, method, tmp_path):
    child = {"java": lambda: start_java(tmp_path), "ruby": start_ruby,
             "php": start_php}[start]()
    try:
        # no -l: the language is detected from the process, as bcc does
        with RunningTool("ucalls", "-L", child.pid, 1, ready="Tracing calls") as t:
            line, n = _calls(t, method)
    finally:
        stop(child)
    assert f"(language: {lang})" in t.header
    assert 30 <= n <= 110, line
    assert float(line.split()[2]) < n * 1000.0, line      # under 1 ms a call


@pytest.mark.parametrize("program,lang", [("perl", "perl"), ("tclsh", "tcl")])
def test_runtimes_without_probes_say_so(program, lang):
    child = start_plain(program)
    try:
        r = run_tool("ucalls", "-l", lang, child.pid)
    finally:
        stop(child)
    assert_one_line_error(r, f"has no {lang} USDT probes", code=1)
    assert "built without USDT probes" in r.stderr


def test_ucalls_bad_input():
    assert_one_line_error(run_tool("ucalls", "-l", "cobol", "1"), "invalid choice")
    assert_one_line_error(run_tool("ucalls", "-l", "python", "999999999"), "no process")
    r = run_tool("ucalls", "-l", "none", "1")
    assert r.returncode == 1 and r.stderr.strip() == "Nothing to do; use -S to trace syscalls."


def _semaphores(pid, names):
    """{probe: its USDT semaphore's value} in python process ``pid``."""
    import os
    from pybcc import usdt
    from pybcc.symbols import procmaps
    from .runtimes import PYTHON
    probes = {p.name: p for p in usdt.list_probes(PYTHON) if p.name in names}
    ino = os.stat(PYTHON).st_ino
    out = {}
    with open(f"/proc/{pid}/mem", "rb") as mem:
        for name, p in probes.items():
            off = p.semaphore_offset
            m = next(m for m in procmaps.read_maps(pid) if m.inode == ino and
                     m.offset <= off < m.offset + (m.end - m.start))
            mem.seek(m.start + off - m.offset)
            out[name] = int.from_bytes(mem.read(2), "little")
    return out


def test_semaphores_go_back_to_zero_when_ucalls_is_killed():
    """python:line's semaphore (held up so that function__entry fires) and
    function__entry's are the kernel's to put back: SIGKILL leaves none up."""
    import signal
    child = start_python()
    names = ("function__entry", "line")
    try:
        assert _semaphores(child.pid, names) == {"function__entry": 0, "line": 0}
        with RunningTool("ucalls", "-l", "python", child.pid, 1, ready="Tracing calls") as t:
            up = _semaphores(child.pid, names)
            t.stop(signal.SIGKILL)
        time.sleep(0.5)
        down = _semaphores(child.pid, names)
    finally:
        stop(child)
    assert up == {"function__entry": 1, "line": 1}, up
    assert down == {"function__entry": 0, "line": 0}, down
