"""Bad values on the command line, over every tool: one clear line on
stderr and exit status 2, never a traceback (#18 item 5).

The table is built from each tool's own -h: a case applies when the tool
has the flag or positional it needs.
"""
import contextlib
import importlib
import io
import os
import re
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from unittest import mock

import pytest

from pybcc.tools import registry

# A tool still running after this accepted the bad value (a rejection takes
# a second; on a loaded machine several).
TIMEOUT = 30
# Tools that need a probe pattern to start at all; the bad flag comes on top.
PATTERN = {"funccount": ["c:malloc"], "stackcount": ["c:malloc"], "trace": ["r:c:malloc"],
           "argdist": ["-C", "r:c:malloc():u64:$retval"]}


def _help(tool):
    """``pybcc TOOL -h``'s text, made in this process (the same text as the
    command prints; a subprocess per tool made collection take minutes on a
    busy machine). 80 columns, as when the help goes to a pipe."""
    module, rest = registry.command(tool, ["-h"])
    main = importlib.import_module(f"pybcc.tools.{module}").main
    out = io.StringIO()
    with mock.patch.dict(os.environ, {"COLUMNS": "80"}), \
            contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
        main(rest)
    return out.getvalue()


def _cases():
    cases = []
    for tool in sorted(registry.BY_NAME):
        h = _help(tool)
        usage = h.split("\n\n")[0]
        base = PATTERN.get(tool, [])

        def add(what, args, with_pattern=True):
            cases.append(pytest.param(tool, (base if with_pattern else []) + args, id=f"{tool}-{what}"))

        if re.search(r"\[interval\]", usage):
            add("negative-interval", ["-1"])
            add("non-numeric-interval", ["abc"])
            if re.search(r"\[(count|outputs)\]", usage):
                add("non-numeric-count", ["1", "x"])
                add("negative-count", ["1", "-3"])
        if re.search(r"-i INTERVAL", usage):
            add("negative-interval", ["-i", "-1"])
        if re.search(r"--duration DURATION|-d DURATION|-D DURATION", usage):
            flag = re.search(r"(--duration|-d|-D) DURATION", usage).group(1)
            add("negative-duration", [flag, "-5"])
        if re.search(r"-p PID", usage):
            add("unknown-pid", ["-p", "999999999"])
            add("non-numeric-pid", ["-p", "abc"])
        # execsnoop -n is a regex in bcc; opensnoop and trace -n match a substring
        if re.search(r"-n NAME", usage) and tool == "execsnoop":
            add("bad-regex", ["-n", "("])
        if re.search(r"-l LINE", usage):
            add("bad-regex-line", ["-l", "("])
        if re.search(r"-n COUNT|-c COUNT", usage):
            flag = re.search(r"(-n|-c) COUNT", usage).group(1)
            add("non-numeric-count", [flag, "x"])
        if re.search(r"-T TOP", usage):
            add("non-numeric-top", ["-T", "x"])
        if re.search(r"-F FREQUENCY", usage):
            add("non-numeric-frequency", ["-F", "x"])
        if re.search(r"-u UID", usage):
            add("non-numeric-uid", ["-u", "x"])
        if re.search(r"--syscall SYSCALL", usage):
            add("unknown-syscall", ["--syscall", "no_such_syscall"])
        if re.search(r"-e ERRNO", usage):
            add("unknown-errno", ["-e", "ENOSUCHERR"])
        if re.search(r"-s SIGNAL", usage):
            add("unknown-signal", ["-s", "NOSUCHSIG"])
        if re.search(r"-d DISK", usage):
            add("unknown-disk", ["-d", "nosuchdisk0"])
        if re.search(r"-c CPU|-C CPU", usage):
            flag = re.search(r"(-c|-C) CPU", usage).group(1)
            add("unknown-cpu", [flag, "4096"])
        if tool in ("funccount", "stackcount", "trace"):
            spec = {"trace": "p:/nonexistent/bin:foo", "funccount": "/nonexistent/bin:foo",
                    "stackcount": "/nonexistent/bin:foo"}[tool]
            add("missing-binary", [spec], with_pattern=False)
            add("nonexistent-tracepoint", ["t:nosuch:event"], with_pattern=False)
            add("bad-regex-pattern", ["-r", "c:("] if tool != "trace" else ["p:c:("],
                with_pattern=False)
        if tool == "argdist":
            add("missing-binary", ["-C", "p:/nonexistent/bin:foo()"], with_pattern=False)
            add("nonexistent-tracepoint", ["-C", "t:nosuch:event()"], with_pattern=False)
        if tool == "memleak":
            add("missing-binary", ["-O", "/nonexistent/lib.so", "-p", str(os.getpid())], with_pattern=False)
    return cases


CASES = _cases()
_results = {}


def _run(tool, args):
    p = subprocess.Popen([sys.executable, "-m", "pybcc", tool, *args], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        out, err = p.communicate(timeout=TIMEOUT)
        return p.returncode, out, err, False
    except subprocess.TimeoutExpired:
        p.send_signal(signal.SIGINT)
        try:
            out, err = p.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
        return p.returncode, out, err, True


@pytest.fixture(scope="module")
def results(request):
    """The selected cases (-k narrows them) at once, two at a time (most end
    in well under a second)."""
    if os.geteuid() != 0:
        pytest.skip("the tools need root to get past their checks")
    todo = [(item.callspec.params["tool"], tuple(item.callspec.params["args"]))
            for item in request.session.items
            if getattr(item, "function", None) is test_bad_value_one_line_exit_2]
    with ThreadPoolExecutor(2) as ex:
        for key, res in zip(todo, ex.map(lambda k: _run(k[0], list(k[1])), todo)):
            _results[key] = res
    return _results


def _error_lines(err):
    """stderr without argparse's usage block: what the user reads as the error."""
    lines, in_usage = [], False
    for ln in err.splitlines():
        if ln.startswith("usage:"):
            in_usage = True
            continue
        if in_usage and (ln.startswith(" ") or not ln.strip()):
            continue
        in_usage = False
        if ln.strip():
            lines.append(ln)
    return lines


@pytest.mark.parametrize("tool,args", CASES)
def test_bad_value_one_line_exit_2(results, tool, args):
    rc, out, err, still_running = results.get((tool, tuple(args))) or _run(tool, args)
    cmd = " ".join(["pybcc", tool, *args])
    assert not still_running, f"{cmd}: accepted the value and ran (rc {rc}); stderr: {err.strip()[-300:]}"
    assert "Traceback" not in err, f"{cmd}: traceback:\n{err[-1500:]}"
    lines = _error_lines(err)
    assert len(lines) == 1, f"{cmd}: want one error line, got {len(lines)}:\n{err[-600:]}"
    assert rc == 2, f"{cmd}: exit status {rc}, want 2 ({lines[0]})"
