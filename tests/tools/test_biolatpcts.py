import json
import re
import signal

import pytest

from .badinput import assert_one_line_error
from .loopdev import direct_io, loop_device
from .toolrun import RunningTool, run_tool

pytestmark = pytest.mark.usefixtures("root")

WRITES = 200
OPS = ["read", "write", "discard", "flush"]
PCTS = ["1", "5", "10", "16", "25", "50", "75", "84", "90", "95", "99", "100"]
LATENCY = re.compile(r"^(-|\d+us|\d+\.\dms|\d+ms|\d+\.\ds)$")


def usecs(text):
    if text == "-":
        return 0
    for unit, scale in (("us", 1), ("ms", 1000), ("s", 1000000)):
        if text.endswith(unit):
            return float(text[:-len(unit)]) * scale


def reports(lines):
    """The text reports: [{op: [latency text per percentile]}], with the header checked."""
    out = []
    for i, ln in enumerate(lines):
        if ln.split()[1:] == PCTS:
            rows = [lines[i + 1 + j].split() for j in range(4)]
            assert [r[0] for r in rows] == OPS, lines
            assert all(len(r) == 13 and all(LATENCY.match(v) for v in r[1:]) for r in rows)
            out.append({r[0]: r[1:] for r in rows})
    return out


def test_biolatpcts_signals_and_percentiles():
    """-i -1: a first report at once; SIGUSR2 reports the period so far,
    SIGUSR1 reports and starts a new one, SIGINT reports and ends."""
    with loop_device(16) as (dev, _):
        with RunningTool("biolatpcts", "-i", "-1", "-v", f"/dev/{dev}", ready="flush  ") as t:
            n = len(t.lines)
            direct_io(dev, range(WRITES))
            t.proc.send_signal(signal.SIGUSR2)
            t.wait_for(lambda ln: len(t.lines) >= n + 18)
            n = len(t.lines)
            t.proc.send_signal(signal.SIGUSR1)
            t.wait_for(lambda ln: len(t.lines) >= n + 18)
            t.stop(signal.SIGINT)
    assert t.proc.returncode == 0, t.stderr
    heads = [ln.split()[0] for ln in t.lines if ln.split()[1:] == PCTS]
    assert heads == [dev] * 4, t.stdout
    first, progress, period, after = reports(t.lines)
    assert all(v == "-" for op in OPS for v in first[op]), t.stdout
    # the writes, in both reports of the first period; nothing after it
    for rep in (progress, period):
        assert all(v == "-" for op in ("read", "discard", "flush") for v in rep[op]), t.stdout
        lat = [usecs(v) for v in rep["write"]]
        assert all(0 < a <= b for a, b in zip(lat, lat[1:])), rep["write"]
        assert lat[-1] < 5_000_000, rep["write"]
    assert all(v == "-" for op in OPS for v in after[op]), t.stdout
    # -v: the write slots of each resolution count every write once
    hundred_ms = [ln for ln in t.lines if ln.startswith("write   100ms")]
    counts = [sum(map(int, re.findall(r"\d+", ln.split("100ms", 1)[1]))) for ln in hundred_ms]
    assert counts[1:3] == [WRITES, WRITES] and counts[3] == 0, counts


def test_biolatpcts_json_and_interval():
    with loop_device(16) as (dev, _):
        with RunningTool("biolatpcts", "-j", "-i", "1", "-p", "50,99", dev, ready="{") as t:
            direct_io(dev, range(WRITES))
            rec = t.wait_for_record(lambda r: r["write"]["99"] > 0, timeout=20)
    assert rec is not None, t.stdout + t.stderr
    assert set(rec) == set(OPS) and set(rec["write"]) == {"50", "99"}
    assert 0 < rec["write"]["50"] <= rec["write"]["99"] < 5, rec
    assert rec["read"] == {"50": 0, "99": 0}


def test_biolatpcts_interval_zero_checks_and_exits():
    r = run_tool("biolatpcts", "-i", "0", "1:0")
    assert r.returncode == 0 and r.stdout == "", r.stderr


@pytest.mark.parametrize("args, message", [
    (["nosuchdisk"], "no such block device"), ([], "required"),
    (["-w", "sometime", "1:0"], "invalid choice"), (["-p", "5,x", "1:0"], "percentiles"),
    (["-p", "101", "1:0"], "percentiles"),
])
def test_biolatpcts_bad_input(args, message):
    assert_one_line_error(run_tool("biolatpcts", *args), message)


def test_percentiles_from_three_resolutions():
    from pybcc.tools.biolatpcts import buckets, latency_percentiles
    counts = [0] * 1201
    counts[2 * 400 + 1 * 100 + 3] = 90      # 90 writes of 30-40us (10us resolution)
    counts[1 * 400 + 1 * 100 + 0] = 90      # their 1ms slot
    counts[0 * 400 + 1 * 100 + 0] = 90 + 9  # their 100ms slot, and 9 of 1-2ms:
    counts[1 * 400 + 1 * 100 + 1] = 9
    counts[0 * 400 + 1 * 100 + 2] = 1       # one of 200-300ms
    assert latency_percentiles(["50", "95", "100"], buckets(counts, 1)) == [35, 1500, 250_000]
    assert json.dumps(latency_percentiles(["50"], buckets(counts, 0))) == "[0]"
