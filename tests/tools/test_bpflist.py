import json
import subprocess
import sys
import uuid

import pytest

from .toolrun import RunningTool, bad_input, run_tool

pytestmark = pytest.mark.usefixtures("root")

# Holds MAPS BPF array maps under its own comm until stdin closes.
HOLDER = """
import sys
import pybcc.kernel.bpf as bpf
with open("/proc/self/comm", "w") as f:
    f.write(sys.argv[1])
fds = [bpf.map_create(map_type=2, key_size=4, value_size=8, max_entries=1)
       for _ in range(int(sys.argv[2]))]
print("ready", flush=True)
sys.stdin.read()
"""
MAPS = 3


@pytest.fixture
def holder():
    comm = f"bpfl-{uuid.uuid4().hex[:6]}"
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, comm, str(MAPS)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    yield proc, comm
    proc.stdin.close()
    proc.wait()


def test_bpflist_counts_the_maps_a_process_holds(holder):
    proc, comm = holder
    r = run_tool("bpflist")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["PID", "COMM", "TYPE", "COUNT"]
    mine = [ln.split() for ln in lines if ln.split()[0] == str(proc.pid)]
    assert mine == [[str(proc.pid), comm, "map", str(MAPS)]], r.stdout


def test_bpflist_json_shows_a_running_tools_programs(holder):
    proc, comm = holder
    with RunningTool("pidpersec", "-p", proc.pid, ready="Tracing") as tool:
        r = run_tool("bpflist", "--json")
    assert r.returncode == 0, r.stderr
    records = [json.loads(ln) for ln in r.stdout.splitlines()]
    assert {"pid": proc.pid, "comm": comm, "type": "map", "count": MAPS} in records
    tool_types = {rec["type"]: rec["count"] for rec in records if rec["pid"] == tool.proc.pid}
    assert tool_types.get("prog", 0) >= 1 and tool_types.get("map", 0) >= 1, records


def test_bpflist_vv_lists_the_probe_files():
    r = run_tool("bpflist", "-vv")
    assert r.returncode == 0, r.stderr
    assert "open kprobes:" in r.stdout and "open uprobes:" in r.stdout


def test_bpflist_bad_input():
    bad_input("bpflist", "extra")
