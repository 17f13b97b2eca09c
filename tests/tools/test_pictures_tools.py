"""The tools' picture flags end to end, as root against real activity:
--heatmap on runqlat and biosnoop; --format svg|speedscope|folded and -o on
the stack tools. Each test opens the file the tool wrote and checks it
against the tool's own numbers."""
import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from pybcc.output import flamegraph
from .toolrun import RunningTool, gated_child, release, run_tool
from .test_biolatency import hist_sections
from .test_memleak import EXPECTED as LEAKS, leaky, leaky_binary  # noqa: F401 (fixtures)
from .test_profile import spinner, spinner_binary  # noqa: F401 (fixtures)

pytestmark = pytest.mark.usefixtures("root")

SVG = "{http://www.w3.org/2000/svg}"
SLEEPER = "import sys, time\nsys.stdin.readline()\nfor _ in range(300): time.sleep(0.002)\n"


def heatmap_cells(path):
    """[(time range, latency range, count)] from the cells' titles."""
    root = ET.parse(path).getroot()
    cells = root.find(SVG + "g[@id='cells']")
    out = []
    for rect in cells.findall(SVG + "rect"):
        m = re.fullmatch(r"(\S+)s, (.+) to (.+): (\d+) (.+)", rect.find(SVG + "title").text)
        out.append((m.group(1), m.group(2), int(m.group(4)), m.group(5)))
    return root, out


def test_runqlat_heatmap_counts_match_the_histogram(tmp_path):
    out = tmp_path / "rq.svg"
    with gated_child([sys.executable, "-c", SLEEPER]) as child:
        with RunningTool("runqlat", "-P", "-p", child.pid, "--heatmap", out,
                         ready="Tracing run queue latency") as t:
            release(child)
    assert t.proc.returncode == 0, t.stderr
    (rows,) = hist_sections(t.lines, "pid").values()
    text_total = sum(c for _, _, c in rows)
    # 300 sleeps; a wake-up that finds the sleeper still on its CPU (the timer
    # fired before it was switched out) is no run queue wait: seen once in ~20 runs
    assert text_total >= 290, t.stdout
    root, cells = heatmap_cells(out)
    assert root.find(SVG + "text[@id='title']").text == "Run Queue Latency Heat Map"
    subtitle = root.find(SVG + "text[@id='subtitle']").text
    assert subtitle.startswith("pybcc runqlat -P -p %d --heatmap " % child.pid)
    assert subtitle.endswith(" · {:,} run queue waits".format(text_total))
    assert sum(c for _, _, c, _ in cells) == text_total      # every wait in one cell
    assert len({t for t, _, _, _ in cells}) >= 1
    assert all(what == "run queue waits" for _, _, _, what in cells)


def test_runqlat_heatmap_unwritable_path_is_one_line():
    r = subprocess.run([sys.executable, "-m", "pybcc", "runqlat", "--heatmap", "/nonexistent/x.svg", "1", "1"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1
    assert r.stderr == "runqlat: cannot write /nonexistent/x.svg: No such file or directory\n"


def flame_frames(path):
    """(SVG root, [(name, count, depth, fill)]) of a flame graph's frames,
    from the picture's own data."""
    text = open(path, encoding="utf-8").read()
    frames = [(f["name"], f["count"], f["depth"], f["fill"]) for f in flamegraph.read_frames(text)]
    return ET.fromstring(text), frames


def unit_of(path):
    return re.search(r'"unit": "([^"]*)"', open(path, encoding="utf-8").read()).group(1)


def by_name(frames):
    out = {}
    for name, count, _, _ in frames:
        out[name] = out.get(name, 0) + count
    return out


def test_profile_svg_and_speedscope_of_a_busy_process(spinner, tmp_path):  # noqa: F811
    out = tmp_path / "cpu.svg"
    r = run_tool("profile", "-F", "499", "-p", spinner.pid, "-o", out, "2", timeout=90)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("Sampling at 499 Hertz of PID [%d] by user + kernel stack for 2 secs."
                               % spinner.pid)
    assert "profile: wrote %s (svg, " % out in r.stderr
    root, frames = flame_frames(out)
    assert root.find(SVG + "text[@id='title']").text == "Flame Graph"
    subtitle = root.find(SVG + "text[@id='subtitle']").text
    assert subtitle.startswith("pybcc profile -F 499 -p %d -o %s 2 · " % (spinner.pid, out))
    total = frames[0][1]
    assert frames[0][0] == "all" and total >= 20
    assert re.search(r" · {:,} samples · ".format(int(total)), subtitle)
    names = by_name(frames)
    assert names["pybccspin"] == total                  # -p: only our process
    hot = sum(c for n, c, _, _ in frames if n.startswith("pybcc_test::busy_spin_marker("))
    assert hot >= 0.8 * total
    r = run_tool("profile", "-F", "199", "-p", spinner.pid, "--format", "speedscope", "1", timeout=90)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)                          # stdout carries only the JSON
    (prof,) = doc["profiles"]
    names = [f["name"] for f in doc["shared"]["frames"]]
    assert sum(prof["weights"]) == prof["endValue"] > 0
    assert all(names[s[0]] == "pybccspin" for s in prof["samples"])
    assert "pybcc_test::busy_spin_marker(unsigned long volatile*)" in names


SLEEPS = "import sys, time\nsys.stdin.readline()\nfor _ in range(20): time.sleep(0.05)\n"


def test_offcputime_svg_counts_microseconds_of_sleep(tmp_path):
    out = tmp_path / "off.svg"
    with gated_child([sys.executable, "-c", SLEEPS]) as child:
        with RunningTool("offcputime", "-p", child.pid, "-o", out,
                         ready="Tracing off-CPU time (us) of PID %d" % child.pid) as t:
            release(child)
    assert t.proc.returncode == 0, t.stderr
    root, frames = flame_frames(out)
    assert root.find(SVG + "text[@id='title']").text == "Off-CPU Time Flame Graph"
    assert " off-CPU · " in root.find(SVG + "text[@id='subtitle']").text
    sleeps = sum(c for n, c, _, _ in frames if "nanosleep" in n and n.startswith("__x64_sys"))
    # 20 sleeps of 50 ms, in µs (more on a busy machine: waits for a CPU count too)
    assert 1_000_000 <= sleeps <= 10_000_000, frames
    # kernel frames are marked for colour, and their names shown without the mark
    schedule = [f for f in frames if f[0] == "schedule"]
    assert schedule and all(f[3] == flamegraph.frame_color("kernel", "schedule") for f in schedule)
    assert unit_of(out) == "us"


def test_stackcount_svg_counts_every_event(tmp_path):
    out = tmp_path / "sc.svg"
    script = "import os, sys\nsys.stdin.readline()\nfor _ in range(200): os.getppid()\n"
    with gated_child([sys.executable, "-c", script]) as child:
        with RunningTool("stackcount", "-p", child.pid, "-o", out, "t:syscalls:sys_enter_getppid",
                         ready="Tracing 1 functions") as t:
            release(child)
    assert t.proc.returncode == 0, t.stderr
    root, frames = flame_frames(out)
    assert frames[0][:2] == ("all", 200)
    assert unit_of(out) == "events"
    assert root.find(SVG + "text[@id='title']").text == "Stack Count Flame Graph"


def test_memleak_svg_has_each_leak_in_bytes(leaky, tmp_path):  # noqa: F811
    out = tmp_path / "leaks.svg"
    r = run_tool("memleak", "-c", f"{leaky} 10", "--output", out, "1", "2", timeout=90)
    assert r.returncode == 0, r.stderr
    assert "Top 10 stacks with outstanding allocations" in r.stdout   # the text report goes on
    root, frames = flame_frames(out)
    assert root.find(SVG + "text[@id='title']").text == "Memory Leak Flame Graph"
    names = by_name(frames)
    assert {n: names.get(n) for n in LEAKS} == {n: size for n, (size, _) in LEAKS.items()}
    assert unit_of(out) == "bytes"
    r = run_tool("memleak", "-c", f"{leaky} 10", "--format", "folded", "1", "1", timeout=90)
    assert r.returncode == 0, r.stderr
    stacks = {}
    for line in r.stdout.splitlines():
        stack, count = line.rsplit(" ", 1)
        leak = next((f for f in stack.split(";") if f.startswith("leak_")), None)
        if leak:
            stacks[leak] = stacks.get(leak, 0) + int(count)
    assert stacks == {n: size for n, (size, _) in LEAKS.items()}, r.stdout


def test_biosnoop_heatmap_has_every_printed_io(tmp_path):
    from .test_biolatency import block_dir, direct_writes
    directory, disk = block_dir()
    out = tmp_path / "io.svg"
    with RunningTool("biosnoop", "-d", disk, "--heatmap", out, ready="LAT(ms)") as t:
        direct_writes(directory, 200)
        t.wait_for(lambda ln: False, timeout=0.5)
    assert t.proc.returncode == 0, t.stderr
    events = [ln for ln in t.lines if re.match(r"\d+\.\d{6} ", ln)]
    assert len(events) >= 200, t.stdout
    root, cells = heatmap_cells(out)
    assert root.find(SVG + "text[@id='title']").text == "Block I/O Latency Heat Map"
    assert sum(c for _, _, c, _ in cells) == len(events)
    assert all(what == "I/Os" for _, _, _, what in cells)
    subtitle = root.find(SVG + "text[@id='subtitle']").text
    assert subtitle.startswith("pybcc biosnoop -d %s --heatmap %s · " % (disk, out))
    assert subtitle.endswith(" · {:,} I/Os".format(len(events)))
