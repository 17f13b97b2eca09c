"""The tools' registry: every tool module is listed, and docs/TOOLS.md is current."""
import os
import subprocess
import sys

from pybcc.tools import registry

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOLS_DIR = os.path.join(ROOT, "pybcc", "tools")


def test_every_tool_module_is_registered_and_every_entry_has_a_module():
    modules = {f[:-3] for f in os.listdir(TOOLS_DIR)
               if f.endswith(".py") and f not in ("__init__.py", "registry.py")}
    assert modules == {t.module for t in registry.TOOLS if not t.alias_of}   # reset-trace: reset_trace.py
    assert all(t.alias_of in modules for t in registry.TOOLS if t.alias_of)


def test_every_tool_has_a_known_subsystem_and_a_description():
    for t in registry.TOOLS:
        assert t.subsystem in registry.SUBSYSTEMS, t
        assert t.description and t.mechanism_here, t


def test_docs_tools_md_is_generated_from_the_registry():
    with open(os.path.join(ROOT, "docs", "TOOLS.md")) as f:
        assert f.read() == registry.markdown(), \
            "docs/TOOLS.md is stale: python3 -m pybcc.tools.registry > docs/TOOLS.md"


def test_help_lists_tools_by_subsystem():
    out = subprocess.run([sys.executable, "-m", "pybcc", "--help"],
                         capture_output=True, text=True, check=True).stdout
    assert "Block I/O:" in out and "Network:" in out
    for name in registry.BY_NAME:
        assert f"  {name} " in out


def test_unknown_tool_is_one_line_and_exit_2():
    r = subprocess.run([sys.executable, "-m", "pybcc", "nosuchtool"], capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "no tool" in r.stderr
