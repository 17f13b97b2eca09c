import re
import subprocess
import sys
import time
import uuid

import pytest

from .toolrun import RunningTool

pytestmark = pytest.mark.usefixtures("root")

# Waits (without reading anything) for the go file, then reads known sizes.
READER = """
import os, sys, time
go = sys.argv[1]
while not os.path.exists(go):
    time.sleep(0.02)
fd = os.open("/dev/zero", os.O_RDONLY)
for _ in range(50):
    os.read(fd, 3000)
for _ in range(7):
    os.read(fd, 100)
time.sleep(30)
"""


@pytest.fixture
def reader(tmp_path):
    go = tmp_path / f"go-{uuid.uuid4().hex[:6]}"
    child = subprocess.Popen([sys.executable, "-c", READER, str(go)])
    time.sleep(0.5)                # past its start-up reads
    yield child, go
    child.kill()
    child.wait()


def test_argdist_histogram_of_tracepoint_field(reader):
    child, go = reader
    spec = "t:syscalls:sys_enter_read():u64:args->count"
    with RunningTool("argdist", "-c", "-p", child.pid, "-H", spec, ready="[") as t:
        go.touch()
        line = t.wait_for(lambda ln: re.match(r"\s+2048 -> 4095\s+: 50\s+\|\*+\|$", ln))
    assert line is not None, t.stdout + t.stderr
    out = t.stdout
    assert re.search(r"^     args->count\s+: count     distribution$", out, re.M), out
    assert re.search(r"^\s+64 -> 127\s+: 7\s+\|\*+\s*\|$", out, re.M), out
    assert re.search(r"^\[\d\d:\d\d:\d\d\]$", out, re.M), out
    assert t.proc.returncode == 0, t.stderr


def test_argdist_count_with_label_and_filter(reader):
    child, go = reader
    spec = "t:syscalls:sys_enter_read():u64:args->count:args->count>1000#big reads"
    with RunningTool("argdist", "-c", "-p", child.pid, "-C", spec, ready="[") as t:
        go.touch()
        line = t.wait_for(lambda ln: ln.strip() == "50         args->count = 3000")
    assert line is not None, t.stdout + t.stderr
    assert "big reads" in t.lines and "\tCOUNT      EVENT" in t.lines, t.stdout
    assert not any("args->count = 100" in ln for ln in t.lines), t.stdout
