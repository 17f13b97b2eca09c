"""UAPI constants agree with the running kernel's own enums (from its BTF)."""
import pytest

from pybcc.btf import BTF
from pybcc.kernel.uapi import AttachType, Cmd, MapType, ProgType


@pytest.mark.parametrize("enum_cls,btf_name,prefix", [
    (Cmd, "bpf_cmd", "BPF_"),
    (MapType, "bpf_map_type", "BPF_MAP_TYPE_"),
    (ProgType, "bpf_prog_type", "BPF_PROG_TYPE_"),
    (AttachType, "bpf_attach_type", "BPF_"),
])
def test_enum_matches_kernel(enum_cls, btf_name, prefix):
    kernel = {v.name[len(prefix):]: v.value for v in BTF.kernel().find(btf_name, 6).members}
    missing = [m.name for m in enum_cls if m.name not in kernel]
    assert not missing, f"not in the kernel's enum {btf_name}: {missing}"
    wrong = [(m.name, m.value, kernel[m.name]) for m in enum_cls if kernel[m.name] != m.value]
    assert not wrong
