"""ustat against real runtimes: the per-second rates of the marker programs
(100 pybcc_outer + 100 pybcc_tick calls, 5 collections, 5 threads a second)."""
from .badinput import assert_one_line_error
from .runtimes import start_java, start_php, start_plain, start_python, start_ruby, stop
from .toolrun import run_tool

HEADER = "PID    CMDLINE              METHOD/s   GC/s   OBJNEW/s   CLOAD/s  EXC/s  THR/s "


def _rows(out, pid):
    return [ln.split() for ln in out.splitlines() if ln.startswith(f"{pid} ")]


def test_pythonstat_rates_of_one_process():
    child = start_python()
    try:
        # -C and a count: batch mode, three 1 s screens (the first one partial)
        r = run_tool("pythonstat", "-C", "-p", child.pid, 1, 3, timeout=60)
    finally:
        stop(child)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "Tracing... Output every 1 secs. Hit Ctrl-C to end"
    assert lines.count(HEADER) == 3 and lines[-1] == "Detaching...", r.stdout
    assert sum(" loadavg: " in ln for ln in lines) == 3
    rows = _rows(r.stdout, child.pid)
    assert len(rows) == 3 and rows[-1][1] == "/usr/bin/python3.11", r.stdout
    method, gc = int(rows[-1][-6]), int(rows[-1][-5])
    assert 120 <= method <= 220 and 2 <= gc <= 6, rows[-1]


def test_ustat_ruby_json_sorted():
    child = start_ruby()
    try:
        r = run_tool("ustat", "-l", "ruby", "-S", "objnew", "-p", child.pid, "--json", 1, 3,
                     timeout=60)
    finally:
        stop(child)
    assert r.returncode == 0, r.stderr
    import json
    last = json.loads(r.stdout.splitlines()[-1])
    [row] = last["rows"]
    assert row["pid"] == child.pid and row["cmdline"].startswith("/usr/bin/ruby -e")
    # Ruby and C methods; "pybcc" * n and [n, n] every 20 ticks, GC.start's mark and sweep
    assert row["method_s"] >= 100 and row["objnew_s"] >= 5 and row["gc_s"] >= 5, row
    assert "loadavg" in last and "ts" in last


def test_javastat_threads(tmp_path):
    child = start_java(tmp_path)
    try:
        r = run_tool("javastat", "-C", "-p", child.pid, 2, 2, timeout=60)
    finally:
        stop(child)
    assert r.returncode == 0, r.stderr
    row = _rows(r.stdout, child.pid)[-1]
    # one Thread started and one System.gc() every 20 ticks: about 5 a second
    # (the JVM may start helper threads too)
    thr, gc, method = int(row[-1]), int(row[-5]), int(row[-6])
    assert 2 <= thr <= 12 and gc >= 2 and method >= 200, r.stdout


def test_ustat_bad_input():
    assert_one_line_error(run_tool("ustat", "-S", "bytes"), "invalid choice")
    assert_one_line_error(run_tool("ustat", "-r", "0"), "must be positive")
    assert_one_line_error(run_tool("ustat", "-p", "999999999"), "no process")


def test_phpstat_method_rate():
    child = start_php()       # USE_ZEND_DTRACE=1: PHP's probes fire
    try:
        r = run_tool("phpstat", "-C", "-p", child.pid, 1, 3, timeout=60)
    finally:
        stop(child)
    assert r.returncode == 0, r.stderr
    row = _rows(r.stdout, child.pid)[-1]
    # pybcc_outer and pybcc_tick, 100 times a second each (and the runtime's own)
    assert 120 <= int(row[-6]) <= 400, r.stdout


def test_perlstat_says_perl_has_no_probes():
    child = start_plain("perl")
    try:
        r = run_tool("perlstat", "-C", "-p", child.pid, 1, 1, timeout=60)
    finally:
        stop(child)
    assert r.returncode == 0, r.stderr
    assert "skipped 1 perl process(es) without USDT probes: Debian 12's perl is built " \
           "without USDT probes" in r.stderr, r.stderr
    assert not _rows(r.stdout, child.pid), r.stdout


def test_rubystat_every_ruby_process():
    """Without -p: the probes go on libruby once, for every ruby process."""
    child = start_ruby()
    try:
        r = run_tool("rubystat", "-C", 1, 3, timeout=60)
    finally:
        stop(child)
    assert r.returncode == 0, r.stderr
    rows = _rows(r.stdout, child.pid)
    assert len(rows) == 3 and int(rows[-1][-6]) >= 100, r.stdout
