"""bashreadline against an interactive bash on a pty, typing a marker command."""
import os
import pty
import subprocess
import time
import uuid

import pytest

from .badinput import assert_one_line_error
from .toolrun import RunningTool, run_tool


def _interactive_bash(shell):
    """An interactive bash on a pseudo-terminal (readline reads only from a tty)."""
    if not os.path.exists(shell):
        pytest.skip(f"no {shell}")
    master, slave = pty.openpty()
    argv = [shell, "--norc", "--noprofile", "-i"] if shell == "/bin/bash" else [shell]
    child = subprocess.Popen(argv, stdin=slave,
                             stdout=slave, stderr=slave, start_new_session=True,
                             env={"PATH": "/usr/bin:/bin", "TERM": "dumb", "PS1": "$ "})
    os.close(slave)
    return child, master


def _type(master, text):
    os.write(master, text.encode())
    time.sleep(0.2)


def _drain(master):
    import select
    while select.select([master], [], [], 0)[0]:
        try:
            if not os.read(master, 65536):
                return
        except OSError:
            return


def _run_shell(*tool_args, shell="/bin/bash"):
    marker = f"pybcc_marker_{uuid.uuid4().hex[:8]}"
    child, master = _interactive_bash(shell)
    try:
        with RunningTool("bashreadline", *tool_args, ready="COMMAND") as t:
            time.sleep(0.3)
            _type(master, f"echo {marker} one two\n")
            line = t.wait_for(lambda ln: marker in ln, 15)
            _type(master, "exit\n")
            child.wait(10)
            _drain(master)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        os.close(master)
    assert line is not None, t.stdout + "\n".join(t.err_lines)
    return t, child, marker, line


def test_bashreadline_prints_the_typed_command():
    t, child, marker, line = _run_shell()
    assert t.stdout.splitlines()[0] == "TIME      PID     COMMAND"
    fields = line.split(None, 2)
    assert fields[1] == str(child.pid) and fields[2] == f"echo {marker} one two", line
    assert len(fields[0]) == 8 and fields[0].count(":") == 2
    assert any(ln.split(None, 2)[2:] == ["exit"] for ln in t.lines if ln.strip()), t.stdout


def test_bashreadline_json():
    import json
    t, child, marker, line = _run_shell("--json")
    rec = json.loads(line)
    assert rec["pid"] == child.pid and rec["command"] == f"echo {marker} one two"


READLINE_C = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <readline/readline.h>
int main(void) {
    char *line;
    while ((line = readline("> ")) != NULL) {
        int done = strcmp(line, "exit") == 0;
        free(line);
        if (done)
            break;
    }
    return 0;
}
"""


def test_bashreadline_shared_libreadline(tmp_path):
    """-s: a program linked with the system's libreadline, named bash (the
    tool shows only processes of that name)."""
    if not os.path.exists("/usr/include/readline/readline.h"):
        pytest.skip("libreadline-dev is needed to build a libreadline user")
    (tmp_path / "rl.c").write_text(READLINE_C)
    subprocess.run(["gcc", "-o", str(tmp_path / "bash"), str(tmp_path / "rl.c"), "-lreadline"],
                   check=True)
    t, child, marker, line = _run_shell("-s", shell=str(tmp_path / "bash"))
    assert line.split(None, 2)[1:] == [str(child.pid), f"echo {marker} one two"], line


def test_bashreadline_bad_input():
    assert_one_line_error(run_tool("bashreadline", "-s", "/nonexistent/libreadline.so"),
                          "does not exist")
    assert_one_line_error(run_tool("bashreadline", "-s", "/etc/passwd"), "cannot read")
