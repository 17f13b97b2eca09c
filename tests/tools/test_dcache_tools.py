"""dcstat and dcsnoop: kprobes only (the dcache has no tracepoints)."""
import subprocess
import sys
import uuid

import pytest

from pybcc.kernel import features

from .fileio import require_kprobes
from .toolrun import RunningTool, bad_input

pytestmark = pytest.mark.usefixtures("root")

# Creates argv[2] new files named argv[1]-N in directory argv[3] (open
# O_CREAT of a name not in the dcache: d_lookup() misses), then stats an
# existing path argv[3]/argv[1]-0 (lookup_fast() references).
WORKER = r"""
import os, sys
tag, n, d = sys.argv[1], int(sys.argv[2]), sys.argv[3]
for i in range(n):
    os.close(os.open(os.path.join(d, "%s-%d" % (tag, i)), os.O_CREAT | os.O_WRONLY, 0o600))
for i in range(n):
    os.stat(os.path.join(d, "%s-%d" % (tag, i)))
"""


def make_files(tmp_path, n=200):
    tag = "pybcc" + uuid.uuid4().hex[:8]
    p = subprocess.run([sys.executable, "-c", WORKER, tag, str(n), str(tmp_path)], check=True)
    return tag, p


@pytest.mark.parametrize("tool", ["dcstat", "dcsnoop"])
def test_without_kprobes_says_what_is_missing(tool):
    if features.has_kprobes():
        pytest.skip("this kernel has kprobes")
    line = bad_input(tool, code=1)
    assert "needs kprobes on lookup_fast() and d_lookup()" in line, line


@pytest.mark.vm
def test_dcstat_counts_misses(tmp_path):
    require_kprobes()
    with RunningTool("dcstat", "1", ready="REFS/s", timeout=300) as t:
        make_files(tmp_path, 300)
        t.wait_for(lambda ln: ln[:1].isdigit() and int(ln.split()[3]) >= 300, timeout=60)
    assert t.header.split() == ["TIME", "REFS/s", "SLOW/s", "MISS/s", "HIT%"]
    rows = [ln.split() for ln in t.lines if ln[:1].isdigit()]
    assert max(int(r[3]) for r in rows) >= 300, t.stdout         # MISS/s
    assert all(int(r[1]) >= int(r[3]) or r[4] == "-%" for r in rows)


@pytest.mark.vm
def test_dcsnoop_misses_and_references(tmp_path):
    require_kprobes()
    with RunningTool("dcsnoop", "-a", ready="TIME(s)", timeout=300) as t:
        tag, _ = make_files(tmp_path, 20)
        t.wait_for(lambda ln: f" M {tag}-19" in ln, timeout=60)
    assert t.header.split() == ["TIME(s)", "PID", "COMM", "T", "FILE"]
    misses = {ln.split()[-1] for ln in t.lines if f" M {tag}-" in ln}
    assert {f"{tag}-{i}" for i in range(20)} <= misses, t.stdout
    refs = [ln for ln in t.lines if f" R {tag}-" in ln]
    assert refs and all(ln.split()[2].startswith("python") for ln in refs), t.stdout


@pytest.mark.vm
def test_dcsnoop_json(tmp_path):
    require_kprobes()
    with RunningTool("dcsnoop", "--json", ready="TIME(s)", timeout=300) as t:
        tag, _ = make_files(tmp_path, 5)
        t.wait_for(lambda ln: f"{tag}-4" in ln, timeout=60)
    recs = [r for r in t.json_records() if r["file"].startswith(tag)]
    assert {r["file"] for r in recs} >= {f"{tag}-{i}" for i in range(5)}, t.stdout
    assert set(recs[0]) == {"time_s", "pid", "comm", "t", "file"} and recs[0]["t"] == "M"


@pytest.mark.parametrize("tool,args", [("dcstat", ["0"]), ("dcstat", ["x"]),
                                       ("dcsnoop", ["-x"]), ("dcsnoop", ["--duration", "0"])])
def test_dcache_tools_bad_input(tool, args):
    bad_input(tool, *args)
