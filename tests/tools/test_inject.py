import errno
import os
import time

import pytest

from pybcc import compiler
from pybcc.tools import inject
from pybcc.tools.lib.runtime import INCLUDE_DIR

from .toolrun import RunningTool, bad_input, run_tool

BANANAS = ('d_alloc_parallel(struct dentry *parent, const struct qstr *name)'
           '(STRCMP("bananas", name->name))')


def test_inject_parses_chains_innermost_first():
    chain = inject.parse_chain("(gfpflags & 0x400) => d_alloc_parallel() => do_mkdirat(int dfd)(dfd > 0)",
                               "kmalloc")
    assert chain == [("do_mkdirat", "int dfd", "dfd > 0"), ("d_alloc_parallel", "", "true"),
                     ("should_failslab", "struct kmem_cache *s, gfp_t gfpflags",
                      "gfpflags & 0x400")]
    assert inject.parse_chain("SyS_mount()", "bio")[-1][0] == "should_fail_bio"


@pytest.mark.parametrize("mode,spec,extra", [
    ("kmalloc", BANANAS, []),
    ("bio", "(bio->bi_iter.bi_size > 4096) => submit_bio()", ["-P", "0.5", "-c", "3"]),
    ("alloc_page", "(order > 2)", []),
])
def test_inject_generated_c_compiles(mode, spec, extra):
    """The C of each mode, with predicates reading arguments and pointers,
    compiles (loading it needs bpf_override_return)."""
    args = inject.parse_args([mode, spec, *extra])
    text = inject.generate(inject.parse_chain(args.spec, args.mode), args)
    assert "bpf_override_return(ctx, %s)" % inject.MODES[mode][2] in text
    compiler.compile(text, include_dirs=[INCLUDE_DIR], filename="inject.bpf.c")


@pytest.mark.usefixtures("root")
def test_inject_refuses_without_override_return_and_prints_program():
    lacking = inject.missing_feature()
    if lacking is None:
        pytest.skip("this kernel has kprobes and bpf_override_return")
    r = run_tool("inject", "kmalloc", "-v", BANANAS)
    assert r.returncode == 1, r.stderr
    assert "SEC(\"kprobe/should_failslab\")" in r.stdout and "d_alloc_parallel" in r.stdout
    (line,) = r.stderr.strip().splitlines()
    assert line.startswith("inject: this kernel has no ") and lacking in line, line


@pytest.mark.vm
@pytest.mark.usefixtures("root")
def test_inject_fails_lookups_of_bananas(tmp_path):
    lacking = inject.missing_feature()
    if lacking:
        # Debian's kernels are built without CONFIG_FUNCTION_ERROR_INJECTION
        pytest.skip(f"this kernel has no {lacking}")
    with RunningTool("inject", "kmalloc", BANANAS, ready="Hit Ctrl-C", timeout=300):
        time.sleep(1)
        with pytest.raises(OSError) as e:
            os.stat(tmp_path / "bananas")
        assert e.value.errno == errno.ENOMEM
        with pytest.raises(FileNotFoundError):
            os.stat(tmp_path / "apples")


@pytest.mark.parametrize("args", [["kmalloc", "foo(("], ["kmalloc", "1bad()"],
                                  ["kmalloc", "f() => f()"], ["bogus", "f()"],
                                  ["kmalloc", "-P", "2", "f()"], ["kmalloc", "f() => (true)"]])
def test_inject_bad_input_is_one_line(args):
    bad_input("inject", *args)
