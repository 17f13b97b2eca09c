"""wakeuptime against a program whose thread wk_target blocks in pipe reads,
each woken by thread wk_waker's write after 50 ms: the time from blocking to
wake-up, the two comms, and the waker's kernel stack."""
import json

import pytest

from .badinput import assert_one_line_error
from .test_pictures_tools import flame_frames, unit_of
from .toolrun import run_tool
from .wakepair import assert_blocked_time, traced, wakepair  # noqa: F401 (fixture)

pytestmark = pytest.mark.usefixtures("root")


def test_wakeuptime_folded_waker_stack(wakepair, monkeypatch):  # noqa: F811
    pid, t = traced("wakeuptime", wakepair, "-f", monkeypatch=monkeypatch)
    lines = [ln.rpartition(" ") for ln in t.lines if ln.strip()]
    stacks = [(stack.split(";"), int(value)) for stack, _, value in lines]
    # the writer's wake-ups of the reader (something else wakes it once as it exits)
    mine = [(f, v) for f, v in stacks if f[-1] == "wk_target" and
            any("pipe_write" in x for x in f)]
    assert mine, t.stdout
    assert all(f[0] == "wk_waker" for f, _ in mine), mine
    assert_blocked_time(sum(v for _, v in mine), t)
    # outermost first: the write system call, the pipe, the wake-up last
    frames, _ = max(mine, key=lambda s: s[1])
    assert frames[-2] == "try_to_wake_up", frames
    assert any("pipe_write" in f for f in frames), frames


def test_wakeuptime_text_shows_addresses_and_offsets(wakepair):  # noqa: F811
    pid, t = traced("wakeuptime", wakepair, ready="Tracing blocked time (us) by kernel stack... "
                                                  "Hit Ctrl-C to end.")
    target = "    %-16s %s" % ("target:", "wk_target")
    starts = [i for i, ln in enumerate(t.lines) if ln == target]
    assert starts, t.stdout
    total = 0
    for i in starts:
        entry = t.lines[i:t.lines.index("", i)]
        if not any("pipe_write" in ln for ln in entry):
            continue        # not the writer's wake-up (the reader exiting)
        assert entry[-2] == "    %-16s %s" % ("waker:", "wk_waker"), entry
        for frame in entry[1:-2]:
            address, name = frame.split()
            assert int(address, 16) >= 1 << 63 and "+0x" in name, frame
        assert entry[1].split()[1].startswith("try_to_wake_up+0x"), entry
        total += int(entry[-1])
    assert_blocked_time(total, t)


def test_wakeuptime_json(wakepair):  # noqa: F811
    pid, t = traced("wakeuptime", wakepair, "--json", ready="Tracing blocked time")
    records = [r for r in t.json_records() if r["target"] == "wk_target" and
               any("pipe_write" in f["function"] for f in r["frames"])]
    assert records and all(r["waker"] == "wk_waker" and r["unit"] == "us" for r in records), \
        t.stdout
    assert_blocked_time(sum(r["value"] for r in records), t)
    frames = max(records, key=lambda r: r["value"])["frames"]
    assert frames[0]["function"] == "try_to_wake_up" and all(f["kernel"] for f in frames)


def test_wakeuptime_svg_and_speedscope(wakepair, tmp_path):  # noqa: F811
    svg = tmp_path / "wakeup.svg"
    pid, t = traced("wakeuptime", wakepair, "-o", svg, ready="Tracing blocked time")
    _, frames = flame_frames(svg)
    assert unit_of(svg) == "us"
    leaves = [c for n, c, _, _ in frames if n == "wk_target"]
    assert_blocked_time(sum(leaves), t)
    scope = tmp_path / "wakeup.json"
    traced("wakeuptime", wakepair, "--format", "speedscope", "-o", scope,
           ready="Tracing blocked time")
    doc = json.loads(scope.read_text())
    profile = doc["profiles"][0]
    names = [f["name"] for f in doc["shared"]["frames"]]
    assert profile["unit"] == "microseconds"
    assert_blocked_time(sum(w for s, w in zip(profile["samples"], profile["weights"])
                            if names[s[-1]] == "wk_target"), t)


@pytest.mark.parametrize("args, message", [
    (["-p", "abc"], "invalid pid 'abc'"),
    (["-p", "1", "-u"], "use either -p or -u."),
    (["-m", "0"], "must be positive"),
    (["-M", "x"], "invalid number 'x'"),
    (["-f", "--json"], "not allowed with"),
    (["--stack-storage-size", "0"], "must be positive"),
    (["0"], "must be positive"),
])
def test_wakeuptime_bad_input_is_one_line(args, message):
    assert_one_line_error(run_tool("wakeuptime", *args), message)
