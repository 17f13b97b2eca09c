"""arm64: every tool compiles for arm64 against the vmlinux.h of Debian's arm64
kernel (its BTF extracted from the vmlinuz), and each object's CO-RE
relocations resolve against that kernel's BTF as the x86-64 object's resolve against the
running kernel: the same count, and nothing left unresolved but the
flavours a tool declares for other kernel versions (struct x___old)."""
import copy
import os
import subprocess

import pytest

from pybcc.btf import core, extract, types
from pybcc.btf.ext import BTFExt
from pybcc.elf_reader import load_spec
from pybcc.tools.lib import prebuilt
from pybcc.tools.lib.prebuilt import tool_names

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def arm64_kernel():
    r = subprocess.run(["bash", os.path.join(ROOT, "scripts", "arm64-kernel.sh")],
                       capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        pytest.skip(f"Debian's arm64 kernel could not be had: {r.stderr.strip()[-300:]}")
    return r.stdout.strip().splitlines()[-1]


def _relocations(obj, kernel_btf):
    """(count, unresolved set) of an object's CO-RE relocations against a kernel BTF."""
    spec = load_spec(obj)
    if not spec.btf_ext_data:
        return 0, set()
    ext = BTFExt.parse(spec.btf_ext_data, spec.btf)
    count, unresolved = 0, set()
    for sec, relos in ext.core_relos.items():
        if sec not in spec.sections or not relos:
            continue
        insns = [copy.copy(i) for i in spec.sections[sec].insns]
        for r in core.relocate(insns, relos, spec.btf, kernel_btf, section=sec):
            count += 1
            if r.poison or (r.kind_name.endswith("EXISTS") and r.new == 0):
                unresolved.add((sec, r.kind_name, r.local))
    return count, unresolved


def test_arm64_btf_comes_out_of_the_plain_image(arm64_kernel):
    btf = types.BTF.parse(extract.btf_from_vmlinuz(arm64_kernel))
    assert btf.find("user_pt_regs") and btf.find("task_struct")
    assert len(btf) > 50000


def test_every_tool_builds_for_arm64_and_relocates_like_x86(arm64_kernel):
    """The arm64 objects scripts/setup.sh prebuilt (as the wheel carries them),
    current for today's sources, against the arm64 kernel's BTF."""
    arm_btf = types.BTF.parse(extract.btf_from_vmlinuz(arm64_kernel))
    host_btf = types.BTF.kernel()
    for name in tool_names():
        arm_obj = prebuilt.current_object(name, "arm64")
        assert arm_obj, f"{name}: no current arm64 object (scripts/setup.sh builds them)"
        x86_obj = prebuilt.tool_object(name)
        (arm_count, arm_left), (x86_count, x86_left) = (
            _relocations(arm_obj, arm_btf), _relocations(x86_obj, host_btf))
        assert arm_count == x86_count, f"{name}: {arm_count} relocations on arm64, {x86_count} on x86-64"
        # What does not resolve may differ between 6.1 (arm64) and the running
        # kernel, but only for the flavours (struct x___old/___new) a tool
        # declares for other kernel versions and guards: never a plain type.
        for sec, kind, access in arm_left | x86_left:
            assert "___" in access.split(".")[0], f"{name}: {sec}: {kind} of {access} does not resolve"


def test_the_arm64_vm_subset_names_tests_that_exist():
    """scripts/vm-arm64.sh's default subset (test ids, one per mechanism)
    collects: a renamed test would otherwise fail only in CI's arm64 guest."""
    import re
    import sys
    with open(os.path.join(ROOT, "scripts", "vm-arm64.sh")) as f:
        ids = re.findall(r"^\s+\$T/(test_\w+\.py::\w+)", f.read(), re.M)
    assert len(ids) >= 6, ids
    r = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p",
                        "no:cacheprovider"] + [f"tests/tools/{i}" for i in ids],
                       cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    collected = {ln.split("[")[0] for ln in r.stdout.splitlines() if "::" in ln}
    assert collected == {f"tests/tools/{i}" for i in ids}, r.stdout
