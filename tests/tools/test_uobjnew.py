"""uobjnew and cobjnew against real allocations: a C program's malloc(12345)
100 times a second, and Java and Ruby objects."""
import pytest

from .badinput import assert_one_line_error
from .runtimes import second_line, start_c, start_java, start_ruby, stop
from .toolrun import RunningTool, run_tool

MALLOCS_C = r"""
#include <stdlib.h>
#include <unistd.h>
int main(int argc, char **argv) {
    for (int i = 0; i < atoi(argv[1]); i++) {
        void *p = malloc(12345);
        if (!p) return 1;
        ((volatile char *)p)[0] = 1;
        free(p);
        usleep(10000);
    }
    return 0;
}
"""


@pytest.fixture
def mallocs(tmp_path):
    child = start_c(tmp_path, "mallocs", MALLOCS_C, ["3000"])
    yield child
    stop(child)


def test_cobjnew_counts_malloc_by_block_size(mallocs):
    with RunningTool("cobjnew", mallocs.pid, 1, ready="Tracing allocations") as t:
        line = second_line(t, lambda ln: ln.startswith("block size 12345 "))
    assert t.header == (f"Tracing allocations in process {mallocs.pid} (language: c)... "
                        "Ctrl-C to quit.")
    assert "NAME/TYPE                      # ALLOCS      # BYTES" in t.stdout
    allocs, nbytes = map(int, line.split()[3:5])
    assert 40 <= allocs <= 110 and nbytes == allocs * 12345, line


def test_uobjnew_c_json_top_size(mallocs):
    with RunningTool("uobjnew", "-l", "c", "-S", "1", "--json", mallocs.pid, 1,
                     ready="Tracing allocations") as t:
        line = second_line(t, lambda ln: '"rows"' in ln)
    import json
    rec = json.loads(line)
    assert rec["language"] == "c" and rec["pid"] == mallocs.pid
    # -S 1: only the largest by bytes, the program's 12345-byte blocks
    [row] = rec["rows"]
    assert row["name"] == "block size 12345" and row["bytes"] == row["allocs"] * 12345
    assert 40 <= row["allocs"] <= 110, row


def test_rubyobjnew_strings_and_arrays():
    child = start_ruby()        # every 20 ticks: "pybcc" * n and [n, n]
    try:
        with RunningTool("rubyobjnew", child.pid, 2, ready="Tracing allocations") as t:
            line = second_line(t, lambda ln: ln.startswith("array "))
    finally:
        stop(child)
    assert "(language: ruby)" in t.header
    assert any(ln.startswith("string ") for ln in t.lines), t.stdout
    assert int(line.split()[1]) >= 5, line       # ten arrays in 2 s, and the runtime's


def test_javaobjnew_threads(tmp_path):
    child = start_java(tmp_path)        # a new Thread every 20 ticks
    try:
        with RunningTool("javaobjnew", child.pid, 2, ready="Tracing allocations") as t:
            line = second_line(t, lambda ln: ln.startswith("java/lang/Thread "))
    finally:
        stop(child)
    allocs, nbytes = map(int, line.split()[1:3])
    assert 3 <= allocs <= 20 and nbytes >= allocs * 16, line


def test_uobjnew_bad_input():
    assert_one_line_error(run_tool("uobjnew", "-l", "python", "1"), "invalid choice")
    assert_one_line_error(run_tool("cobjnew", "-C", "0", "1"), "must be positive")
