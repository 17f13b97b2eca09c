import json
import os
import re
import subprocess

import pytest

from .toolrun import bad_input, run_tool

pytestmark = pytest.mark.usefixtures("root")

PYTHON = "/usr/bin/python3.11"     # Debian's python3.11 has USDT probes
needs_python_usdt = pytest.mark.skipif(not os.path.exists(PYTHON),
                                       reason=f"{PYTHON} (with USDT probes) not installed")


def readelf_probe(path, name):
    """(location, semaphore, argument string) of a probe, as readelf -n shows them."""
    out = subprocess.run(["readelf", "-n", path], capture_output=True, text=True).stdout
    m = re.search(r"Name: %s\n\s+Location: (0x[0-9a-f]+), Base: 0x[0-9a-f]+, "
                  r"Semaphore: (0x[0-9a-f]+)\n\s+Arguments: (.*)" % name, out)
    return int(m.group(1), 16), int(m.group(2), 16), m.group(3).split()


def test_tplist_tracepoint_fields_from_tracefs():
    r = run_tool("tplist", "-v", "sched:sched_process_fork")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        "sched:sched_process_fork",
        "    __data_loc char[] parent_comm;", "    pid_t parent_pid;",
        "    __data_loc char[] child_comm;", "    pid_t child_pid;"]


def test_tplist_filter_and_json():
    r = run_tool("tplist", "signal:*")
    assert sorted(r.stdout.split()) == ["signal:signal_deliver", "signal:signal_generate"]
    r = run_tool("tplist", "--json", "signal:signal_generate")
    (rec,) = [json.loads(ln) for ln in r.stdout.splitlines()]
    assert rec["tracepoint"] == "signal:signal_generate"
    assert {"type": "int", "name": "sig"} in rec["fields"]
    assert {"type": "pid_t", "name": "pid"} in rec["fields"]


@needs_python_usdt
def test_tplist_usdt_of_a_binary_matches_its_notes():
    pc, sema, elf_args = readelf_probe(PYTHON, "function__entry")
    r = run_tool("tplist", "-l", PYTHON, "-vv", "python:function__entry")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "python:function__entry [sema 0x%x]" % sema
    assert lines[1] == "  location #1 %s 0x%x" % (PYTHON, pc)
    # "8@%rbp" → "8 unsigned bytes @ bp", "-4@%eax" → "4 signed   bytes @ ax"
    expected = []
    for i, spec in enumerate(elf_args, 1):
        size, reg = spec.split("@")
        sign = "signed  " if size.startswith("-") else "unsigned"
        reg = {"rbp": "bp", "eax": "ax", "rax": "ax", "rdi": "di", "rsi": "si",
               "rbx": "bx"}.get(reg.lstrip("%"), reg.lstrip("%"))
        expected.append("    argument #%d %d %s bytes @ %s" % (i, abs(int(size)), sign, reg))
    assert lines[2:] == expected, r.stdout

    r = run_tool("tplist", "-l", PYTHON, "-v", "python:function__entry")
    assert r.stdout.splitlines()[1:] == ["  1 location(s)", "  %d argument(s)" % len(elf_args)]


@needs_python_usdt
def test_tplist_usdt_of_a_process_json():
    proc = subprocess.Popen([PYTHON, "-c", "import sys; print('up', flush=True); sys.stdin.read()"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "up"
        text = run_tool("tplist", "-p", proc.pid, "python:*")
        js = run_tool("tplist", "-p", proc.pid, "--json", "python:gc__start")
    finally:
        proc.stdin.close()
        proc.wait()
    assert f"{PYTHON} python:function__entry" in text.stdout.splitlines(), text.stdout
    (rec,) = [json.loads(ln) for ln in js.stdout.splitlines()]
    pc, sema, elf_args = readelf_probe(PYTHON, "gc__start")
    assert rec["path"] == PYTHON and rec["probe"] == "python:gc__start"
    assert rec["semaphore"] == sema and rec["locations"][0]["address"] == pc
    assert len(rec["locations"][0]["arguments"]) == len(elf_args)


@pytest.mark.parametrize("args", [("-p", "abc"), ("-p", "999999999"), ("-l", "/nonexistent/x")])
def test_tplist_bad_input(args):
    bad_input("tplist", *args, code=1 if args[0] == "-l" else 2)
