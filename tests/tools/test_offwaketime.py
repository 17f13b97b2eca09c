"""offwaketime against a program whose thread wk_target blocks in pipe reads,
each woken by thread wk_waker's write after 50 ms: the blocked time, the
two comms and tids, and both stacks."""
import json

import pytest

from .badinput import assert_one_line_error
from .test_pictures_tools import flame_frames, unit_of
from .toolrun import run_tool
from .wakepair import assert_blocked_time, traced, wakepair  # noqa: F401 (fixture)

pytestmark = pytest.mark.usefixtures("root")


def test_offwaketime_folded_target_and_waker_stacks(wakepair, monkeypatch):  # noqa: F811
    pid, t = traced("offwaketime", wakepair, "-f", "-K", monkeypatch=monkeypatch)
    lines = [ln.rpartition(" ") for ln in t.lines if ln.strip()]
    stacks = [(stack.split(";"), int(value)) for stack, _, value in lines]
    # the reader's waits in its pipe reads (it also blocks once more, exiting)
    mine = [(f, v) for f, v in stacks if f[0] == "wk_target" and
            any("pipe_read" in x for x in f[:f.index("--")])]
    assert mine, t.stdout
    # every wake-up from a pipe read came from the writer
    assert all(f[-1] == "wk_waker" for f, _ in mine), mine
    assert_blocked_time(sum(v for _, v in mine), t)
    frames, _ = max(mine, key=lambda s: s[1])
    blocked, waker = frames[:frames.index("--")], frames[frames.index("--") + 1:]
    # the target blocks in a pipe read (outermost first, the scheduler last);
    # the waker's frames are innermost first: the wake-up, then the pipe write
    assert any("pipe_read" in f for f in blocked) and blocked[-1].startswith("__schedule"), frames
    assert waker[0] == "try_to_wake_up" and any("pipe_write" in f for f in waker), frames


def test_offwaketime_text_names_waker_and_target(wakepair):  # noqa: F811
    pid, t = traced("offwaketime", wakepair, "-K", ready="Tracing blocked time (us) by kernel off-CPU and "
                                          "waker stack... Hit Ctrl-C to end.")
    waker_lines = [i for i, ln in enumerate(t.lines) if ln == "    %-16s %s %d" % ("waker:", "wk_waker", pid)]
    assert waker_lines, t.stdout
    total = 0
    for i in waker_lines:
        end = t.lines.index("", i)
        entry = t.lines[i:end]
        assert "    %-16s %s" % ("--", "--") in entry, entry
        assert entry[-2].startswith("    %-16s %s " % ("target:", "wk_target")), entry
        target_tid = int(entry[-2].split()[-1])
        assert target_tid != pid       # the reader is the second thread
        total += int(entry[-1])
    assert_blocked_time(total, t)


def test_offwaketime_json_and_user_stacks(wakepair):  # noqa: F811
    pid, t = traced("offwaketime", wakepair, "--json", ready="Tracing blocked time (us) by user + kernel")
    records = [r for r in t.json_records() if r["target"]["comm"] == "wk_target" and
               any("pipe_read" in f["function"] for f in r["target"]["frames"])]
    assert records, t.stdout
    assert all(r["waker"]["comm"] == "wk_waker" and r["waker"]["pid"] == pid and
               r["waker"]["tid"] == pid and r["target"]["pid"] == pid and
               r["target"]["tid"] != pid and r["unit"] == "us" for r in records), records
    assert_blocked_time(sum(r["value"] for r in records), t)
    # user frames follow the kernel ones: the reader's thread function, the writer's main
    best = max(records, key=lambda r: r["value"])
    assert any(f["function"] == "target" and not f["kernel"] for f in best["target"]["frames"])
    assert any(f["function"] == "main" and not f["kernel"] for f in best["waker"]["frames"])


def test_offwaketime_svg_and_speedscope_in_microseconds(wakepair, tmp_path):  # noqa: F811
    svg = tmp_path / "wake.svg"
    pid, t = traced("offwaketime", wakepair, "-K", "-o", svg, ready="Tracing blocked time")
    assert "offwaketime: wrote %s (svg," % svg in t.stderr
    _, frames = flame_frames(svg)
    assert unit_of(svg) == "us"
    roots = [(n, c) for n, c, depth, _ in frames if depth == 1 and n == "wk_target"]
    assert roots, frames
    assert_blocked_time(roots[0][1], t)
    assert any(n == "--" for n, _, _, _ in frames)

    scope = tmp_path / "wake.json"
    pid, t = traced("offwaketime", wakepair, "-K", "-o", scope, ready="Tracing blocked time")
    doc = json.loads(scope.read_text())
    profile = doc["profiles"][0]
    assert profile["unit"] == "microseconds"
    names = [f["name"] for f in doc["shared"]["frames"]]
    mine = sum(w for s, w in zip(profile["samples"], profile["weights"])
               if names[s[0]] == "wk_target")
    assert_blocked_time(mine, t)


@pytest.mark.parametrize("args, message", [
    (["-p", "abc"], "invalid pid 'abc'"),
    (["-p", "1,1,1,1,1,1"], "at most 5 ids"),
    (["-t", "999999999"], "no process with pid 999999999"),
    (["-m", "0"], "must be positive"),
    (["--state", "x"], "invalid state mask"),
    (["-f", "--json"], "not allowed with"),
    (["-U", "-K"], "not allowed with"),
    (["--format", "png"], "invalid choice"),
    (["0"], "must be positive"),
])
def test_offwaketime_bad_input_is_one_line(args, message):
    assert_one_line_error(run_tool("offwaketime", *args), message)

