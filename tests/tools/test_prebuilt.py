"""Prebuilt tool objects are used while current and ignored once stale."""
import shutil

import pytest

from pybcc.compiler import target_arch
from pybcc.tools.lib import prebuilt

pytestmark = pytest.mark.usefixtures("root")

SOURCE = """#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
SEC("raw_tp/sys_enter") int p(void *ctx) { return 0; }
char LICENSE[] SEC("license") = "GPL";
"""


@pytest.fixture
def tools_dir(tmp_path, monkeypatch):
    shutil.copytree(prebuilt.INCLUDE_DIR, tmp_path / "include")
    (tmp_path / "demo.bpf.c").write_text(SOURCE)
    monkeypatch.setattr(prebuilt, "TOOLS_DIR", str(tmp_path))
    monkeypatch.setattr(prebuilt, "INCLUDE_DIR", str(tmp_path / "include"))
    monkeypatch.setattr(prebuilt, "PREBUILT_DIR", str(tmp_path / "prebuilt"))
    return tmp_path


def test_prebuilt_object_used_while_source_unchanged(tools_dir):
    assert prebuilt.prebuild() == ["demo"]
    obj = prebuilt.tool_object("demo")
    assert obj == str(tools_dir / "prebuilt" / target_arch() / "demo.bpf.o")
    with open(obj, "rb") as f:
        assert f.read(4) == b"\x7fELF"


def test_stale_prebuilt_object_is_not_used(tools_dir):
    prebuilt.prebuild()
    (tools_dir / "demo.bpf.c").write_text(SOURCE.replace("return 0", "return 1"))
    obj = prebuilt.tool_object("demo")
    assert "prebuilt" not in obj   # compiled afresh through the cache


def test_prebuilt_object_stays_current_when_the_tree_moves(tools_dir, tmp_path_factory, monkeypatch):
    """An installed wheel puts the same files at another path: the digest is of
    contents, so the prebuilt object is still used there."""
    prebuilt.prebuild()
    moved = tmp_path_factory.mktemp("moved") / "tools"
    shutil.copytree(tools_dir, moved)
    monkeypatch.setattr(prebuilt, "TOOLS_DIR", str(moved))
    monkeypatch.setattr(prebuilt, "INCLUDE_DIR", str(moved / "include"))
    monkeypatch.setattr(prebuilt, "PREBUILT_DIR", str(moved / "prebuilt"))
    assert prebuilt.tool_object("demo") == str(moved / "prebuilt" / target_arch() / "demo.bpf.o")
