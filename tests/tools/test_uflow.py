"""uflow against real runtimes: the marker's calls, nested and indented."""
import pytest

from .badinput import assert_one_line_error
from .runtimes import start_java, start_php, start_python, start_ruby, stop
from .toolrun import RunningTool, run_tool


def _nested(t, outer, inner):
    """The lines of one outer → inner → inner return → outer return, in order."""
    def find():
        lines = list(t.lines)
        for i, ln in enumerate(lines):
            if ln.rstrip().endswith(f"-> {outer}") and i + 3 < len(lines):
                return lines[i:i + 4]
        return None
    t.wait_for(lambda ln: find() is not None, 25)
    found = find()
    assert found, t.stdout + "\n" + "\n".join(t.err_lines)
    return found


def _method_column(line):
    # CPU PID TID TIME(us) METHOD: METHOD starts after the fourth column
    return line[27:].rstrip()


def test_pythonflow_indents_by_depth():
    child = start_python()
    try:
        with RunningTool("pythonflow", child.pid, ready="CPU PID") as t:
            lines = _nested(t, "<string>.pybcc_outer", "<string>.pybcc_tick")
    finally:
        stop(child)
    assert t.stdout.splitlines()[:2] == [
        f"Tracing method calls in python process {child.pid}... Ctrl-C to quit.",
        "CPU PID    TID    TIME(us) METHOD"]
    cols = [_method_column(ln) for ln in lines]
    indent = cols[0].index("->")
    assert cols == [" " * indent + "-> <string>.pybcc_outer",
                    " " * indent + "  -> <string>.pybcc_tick",
                    " " * indent + "  <- <string>.pybcc_tick",
                    " " * indent + "<- <string>.pybcc_outer"], lines
    fields = lines[0].split()
    assert fields[1] == fields[2] == str(child.pid)
    times = [float(ln.split()[3]) for ln in lines]
    assert times == sorted(times) and times[-1] - times[0] < 0.01, lines


def test_uflow_method_prefix_json():
    child = start_python()
    try:
        with RunningTool("uflow", "-l", "python", "-M", "pybcc_t", "--json", child.pid,
                         ready="CPU PID") as t:
            rec = t.wait_for_record(lambda r: r["method"]["direction"] == "return", 20)
            t.wait_for(lambda ln: False, 0.5)
    finally:
        stop(child)
    assert rec is not None, t.stderr
    recs = t.json_records()
    assert {r["method"]["method"] for r in recs} == {"pybcc_tick"}
    # pybcc_outer is filtered out: pybcc_tick is at depth 1 (a return whose
    # entry came before tracing started is at depth 0, as in bcc)
    assert {r["method"]["depth"] for r in recs if r["method"]["direction"] == "entry"} == {1}
    assert {r["method"]["depth"] for r in recs} <= {0, 1}, recs[:4]
    assert rec["pid"] == rec["tid"] == child.pid and rec["method"]["class"] == "<string>"


@pytest.mark.parametrize("lang", ["java", "ruby", "php"])
def test_uflow_per_runtime(lang, tmp_path):
    child = {"java": lambda: start_java(tmp_path), "ruby": start_ruby, "php": start_php}[lang]()
    outer, inner = {"java": ("PybccTick.pybccOuter", "PybccTick.pybccTick"),
                    "ruby": ("PybccK.pybcc_outer", "PybccK.pybcc_tick"),
                    "php": ("PybccK.pybcc_outer", "PybccK.pybcc_tick")}[lang]
    try:
        with RunningTool("uflow", "-l", lang, "-C", outer.split(".")[0], child.pid,
                         ready="CPU PID") as t:
            lines = _nested(t, outer, inner)
    finally:
        stop(child)
    cols = [_method_column(ln).strip() for ln in lines]
    assert cols == [f"-> {outer}", f"-> {inner}", f"<- {inner}", f"<- {outer}"], lines
    assert _method_column(lines[1]).index("->") == _method_column(lines[0]).index("->") + 2


def test_uflow_bad_input():
    assert_one_line_error(run_tool("uflow", "-l", "python", "-M", "x" * 100, "1"),
                          "longer than 79")
    assert_one_line_error(run_tool("uflow", "-l", "basic", "1"), "invalid choice")
