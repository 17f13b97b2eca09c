"""Flame graphs, speedscope files and heat maps, checked without a browser:
the layout's numbers, speedscope's documented format, the SVG's size, and
`pybcc flamegraph` as users run it."""
import json
import os
import subprocess
import sys

import pytest

from pybcc.output import flamegraph, flamelayout, folded, heatmap, speedscope

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SAMPLE = """\
python3;_start;main;compute_[i];busy 300
python3;_start;main;io;read;-;entry_SYSCALL_64;ksys_read 100
python3;_start;main;io;write_[j] 50
python3;_start;main 50
swapper;cpu_idle_[k] 500
python3;_start;main;io;read;-;entry_SYSCALL_64;ksys_read 7
"""


def test_parse_adds_repeated_stacks_and_rejects_bad_lines():
    stacks = folded.parse(SAMPLE.splitlines())
    assert stacks["python3;_start;main;io;read;-;entry_SYSCALL_64;ksys_read"] == 107
    assert folded.total(stacks) == 1007
    assert folded.parse(["a;b 1.5", "# comment", "", "a;b 2"]) == {"a;b": 3.5}
    assert folded.parse(["a;f(int, char) 3", "a;f(int, char)\t4\n"]) == {"a;f(int, char)": 7}
    with pytest.raises(folded.FoldedError, match="x.folded:2: not a folded stack line"):
        folded.parse(["a;b 1", "a;b many"], "x.folded")


def test_layout_frames_span_their_stacks():
    stacks = folded.parse(SAMPLE.splitlines())
    lay = flamelayout.layout(stacks)
    by_name = {f.name: f for f in lay.frames}
    assert lay.total == 1007 and lay.max_depth == 8 and lay.stacks == 5
    assert by_name["all"].count == 1007
    assert by_name["main"].count == 507
    assert by_name["io"].count == 157
    assert by_name["ksys_read"].depth == 8
    # Children lie inside their parent.
    io, read = by_name["io"], by_name["read"]
    assert io.start <= read.start and read.start + read.count <= io.start + io.count


def test_narrow_frames_merge_and_their_children_go():
    stacks = {"a;wide": 1000}
    stacks.update({"a;n%03d;deeper" % i: 1 for i in range(100)})
    lay = flamelayout.layout(stacks, min_count=5)
    names = [f.name for f in lay.frames]
    assert "[100 narrow frames]" in names
    assert not any(n.startswith("n0") or n == "deeper" for n in names)
    merged = next(f for f in lay.frames if f.merged)
    assert merged.count == 100 and merged.depth == 2
    # A lone narrow frame is dropped, not merged.
    lay = flamelayout.layout({"a;wide": 1000, "a;tiny": 1}, min_count=5)
    assert [f.name for f in lay.frames] == ["all", "wide", "a"]


def test_differential_frames_carry_the_change():
    before = {"a;b": 10, "a;c": 30, "a;gone": 5}
    after = {"a;b": 25, "a;c": 30}
    lay = flamelayout.layout(folded.pair(before, after), differential=True)
    by_name = {f.name: f for f in lay.frames}
    assert by_name["b"].delta == 15 and by_name["c"].delta == 0
    assert by_name["a"].count == 55 and by_name["a"].delta == 10
    assert "gone" not in by_name
    svg = flamegraph.render(folded.pair(before, after), differential=True)
    drawn = {f["name"]: f for f in flamegraph.read_frames(svg)}
    assert (drawn["b"]["count"], drawn["b"]["delta"], drawn["b"]["fill"]) == (25, 15, "#ff0000")
    assert drawn["c"]["fill"] == "#ffffff"
    # --negate: before's widths, so the stack that went away shows, in blue
    svg = flamegraph.render(folded.pair(before, after), differential=True, negate=True)
    drawn = {f["name"]: f for f in flamegraph.read_frames(svg)}
    assert (drawn["gone"]["count"], drawn["gone"]["delta"]) == (5, -5)
    assert drawn["gone"]["fill"].endswith("ff") and drawn["gone"]["fill"] != "#ffffff"
    assert (drawn["b"]["count"], drawn["b"]["delta"]) == (10, 15)
    assert drawn["all"]["count"] == 45


def test_svg_size_follows_frames_drawn_not_samples():
    stacks = {"comm;f%d;g%d" % (i, i): 1 + i for i in range(50)}
    small = flamegraph.render(stacks)
    big = flamegraph.render({k: v * 1000000 for k, v in stacks.items()})
    assert abs(len(big) - len(small)) < 0.25 * len(small)   # only longer numbers
    # 20,000 stacks too narrow to see add almost nothing beside one wide stack.
    many = {"comm;wide": 10 ** 9}
    many.update({"comm;tiny%05d;leaf" % i: 1 for i in range(20000)})
    svg = flamegraph.render(many)
    assert len(flamegraph.read_frames(svg)) <= 4
    assert len(svg) < len(small) + 2000


def test_titles_use_units():
    assert flamegraph.format_amount(1234, "samples") == "1,234 samples"
    assert flamegraph.format_amount(532, "us") == "532 µs"
    assert flamegraph.format_amount(53200, "us") == "53.20 ms"
    assert flamegraph.format_amount(2500000, "us") == "2.50 s"
    assert flamegraph.format_amount(512, "bytes") == "512 bytes"
    assert flamegraph.format_amount(3 << 20, "bytes") == "3.0 MiB"
    svg = flamegraph.render({"app;malloc_big": 3 << 20}, unit="bytes", title="Leaks")
    assert '"unit": "bytes"' in svg        # the script formats tooltips (browser tests)
    assert '<text id="title" x="600.0" y="24">Leaks</text>' in svg


def test_frame_kinds_pick_colours():
    assert flamegraph.frame_kind("ksys_read_[k]") == ("kernel", "ksys_read")
    assert flamegraph.frame_kind("inl_[i]") == ("inlined", "inl")
    assert flamegraph.frame_kind("Interpreter_[j]") == ("jit", "Interpreter")
    assert flamegraph.frame_kind("main") == ("user", "main")
    stacks = flamegraph.annotate_delimited({"a;b;-;k1;k2": 3})
    assert stacks == {"a;b;-;k1_[k];k2_[k]": 3}


def test_speedscope_document_follows_the_schema():
    """Against speedscope's documented format (file-format-schema.json):
    File requires $schema, shared.frames (each with a name) and profiles; a
    sampled profile requires type, name, unit, startValue, endValue, samples
    and weights, one weight per sample, indices into shared.frames."""
    stacks = folded.parse(SAMPLE.splitlines())
    doc = json.loads(speedscope.dumps(stacks, name="test", unit="us"))
    assert doc["$schema"] == "https://www.speedscope.app/file-format-schema.json"
    frames = doc["shared"]["frames"]
    assert frames and all(isinstance(f["name"], str) for f in frames)
    assert len({f["name"] for f in frames}) == len(frames)       # shared, not repeated
    (profile,) = doc["profiles"]
    for field in ("type", "name", "unit", "startValue", "endValue", "samples", "weights"):
        assert field in profile
    assert profile["type"] == "sampled"
    assert profile["unit"] in ("none", "nanoseconds", "microseconds", "milliseconds", "seconds", "bytes")
    assert profile["unit"] == "microseconds"
    assert len(profile["samples"]) == len(profile["weights"]) == len(stacks)
    for sample in profile["samples"]:
        assert sample and all(isinstance(i, int) and 0 <= i < len(frames) for i in sample)
    assert sum(profile["weights"]) == folded.total(stacks) == 1007
    assert profile["startValue"] <= profile["endValue"] == 1007
    # Stacks read back (outermost first) give the input.
    back = {";".join(frames[i]["name"] for i in s): w for s, w in zip(profile["samples"], profile["weights"])}
    assert back == stacks


def test_heatmap_cells():
    h = heatmap.HeatMap(column_seconds=1.0, start=100.0, what="I/Os")
    for latency in (0, 1, 2, 3, 100, 100):
        h.add(100.5, latency)
    h.add(102.2, 5000)
    h.add_histogram(103.0, [0, 0, 4])
    assert h.cells == {(0, 0): 1, (0, 1): 1, (0, 2): 2, (0, 7): 2, (2, 13): 1, (3, 2): 4}
    svg = h.render(title="Block I/O latency")
    assert "<title>0-1s, 64 µs to 127 µs: 2 I/Os</title>" in svg
    assert "<title>2-3s, 4.1 ms to 8.19 ms: 1 I/Os</title>" in svg


def run_cli(args, stdin=None):
    return subprocess.run([sys.executable, "-m", "pybcc", "flamegraph"] + args, cwd=ROOT,
                          input=stdin, capture_output=True, text=True, timeout=60)


def test_cli_draws_stdin_and_files(tmp_path):
    r = run_cli(["-", "--title", "CPU", "--subtitle", "pybcc profile 5"], stdin=SAMPLE)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("<?xml") and r.stdout.rstrip().endswith("</svg>")
    assert ("main", 507, 3) in [(f["name"], f["count"], f["depth"]) for f in flamegraph.read_frames(r.stdout)]
    assert ">pybcc profile 5</text>" in r.stdout
    before, after = tmp_path / "before.folded", tmp_path / "after.folded"
    before.write_text("a;b 10\na;c 30\n")
    after.write_text("a;b 25\na;c 30\n")
    out = tmp_path / "diff.svg"
    r = run_cli(["--diff", str(before), str(after), "-o", str(out)])
    assert r.returncode == 0, r.stderr
    assert "Differential Flame Graph" in out.read_text()
    r = run_cli(["--format", "speedscope", str(after)])
    assert json.loads(r.stdout)["profiles"][0]["weights"] == [25, 30]
    r = run_cli(["--inverted", str(after)])
    assert "Icicle Graph" in r.stdout


def test_cli_bad_input_is_one_line(tmp_path):
    for args, stdin, message in (
            (["/nonexistent.folded"], None, "cannot read /nonexistent.folded"),
            (["-"], "not folded\n", "<stdin>:1: not a folded stack line"),
            (["-"], "", "no stacks in the input")):
        r = run_cli(args, stdin)
        assert r.returncode == 1
        assert r.stderr.count("\n") == 1 and message in r.stderr, r.stderr


def test_svg_is_well_formed_xml_with_awkward_names():
    import xml.etree.ElementTree as ET
    stacks = {"a<b>;operator&&(x)_[k];\"q\"'s;ctl\x01char": 5, "std::vector<int>::push_back 1": 3,
              "]]>;x": 1}
    for options in ({}, {"inverted": True}):
        root = ET.fromstring(flamegraph.render(stacks, **options))
        names = {f["name"] for f in flamegraph.read_frames(flamegraph.render(stacks, **options))}
        assert {"a<b>", "operator&&(x)", "]]>", "ctl\x01char"} <= names
        labels = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
        assert "a<b>" in labels
    h = heatmap.HeatMap(start=0.0, what="<I/Os>")
    h.add(0, 5)
    ET.fromstring(h.render(title="a & b"))


def test_stackfile_format_follows_flags_and_file_name():
    import argparse
    from pybcc.tools.lib import stackfile
    p = argparse.ArgumentParser()
    p.add_argument("-f", "--folded", action="store_true")
    stackfile.add_arguments(p)
    cases = {(): None, ("-f",): "folded", ("-o", "x.svg"): "svg", ("-o", "x.json"): "speedscope",
             ("-o", "x.txt"): "folded", ("--format", "svg"): "svg",
             ("--format", "folded", "-o", "x.svg"): "folded"}
    for argv, fmt in cases.items():
        args = p.parse_args(argv)
        assert stackfile.chosen_format(args) == fmt, argv
    assert stackfile.quiet(p.parse_args(["--format", "svg"]))
    assert not stackfile.quiet(p.parse_args(["-o", "x.svg"]))


def test_layout_matches_a_plain_tree_count():
    """Each frame path appears once, with the sum of the stacks under it
    (names chosen so that text order and frame order differ)."""
    import random
    rng = random.Random(7)
    names = ["a", "a!", "a b", "b", "a;"[:1] + "~", "0"]
    stacks = {}
    for _ in range(300):
        stack = ";".join(rng.choice(names) for _ in range(rng.randint(1, 5)))
        stacks[stack] = stacks.get(stack, 0) + rng.randint(1, 9)
    expected = {}
    for stack, count in stacks.items():
        frames = stack.split(";")
        for i in range(1, len(frames) + 1):
            path = tuple(frames[:i])
            expected[path] = expected.get(path, 0) + count
    lay = flamelayout.layout(stacks)
    by_depth = {}
    for f in lay.frames:
        by_depth.setdefault(f.depth, []).append(f)

    def path(f):
        if f.depth == 0:
            return ()
        parent = next(p for p in by_depth[f.depth - 1]
                      if p.start <= f.start and f.start + f.count <= p.start + p.count)
        return path(parent) + (f.name,)
    got = {}
    for f in lay.frames[1:]:
        p = path(f)
        assert p not in got, p
        got[p] = f.count
    assert got == expected
