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

from .toolrun import RunningTool
from .test_biolatency import hist_sections

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
    child = subprocess.Popen([sys.executable, "-c", SLEEPER], stdin=subprocess.PIPE, text=True)
    try:
        with RunningTool("runqlat", "-P", "-p", child.pid, "--heatmap", out,
                         ready="Tracing run queue latency") as t:
            child.stdin.write("go\n")
            child.stdin.close()
            child.wait(20)
    finally:
        child.kill()
    assert t.proc.returncode == 0, t.stderr
    (rows,) = hist_sections(t.lines, "pid").values()
    text_total = sum(c for _, _, c in rows)
    assert text_total >= 300, t.stdout
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
