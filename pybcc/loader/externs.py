"""Extern layout: what the object asks of the running kernel by name.

__kconfig externs get their values from the kernel's configuration (and
libbpf's virtual LINUX_* ones) in a read-only ".kconfig" data map; typed
__ksym variables and kfuncs get kernel BTF ids; untyped __ksym variables get
addresses from kallsyms. The linker patches the references.
"""
from __future__ import annotations

import os

from ..btf import types as bt
from ..errors import LoadError
from ..kernel import features
from ..kernel.uapi import BPF_F_MMAPABLE, BPF_F_RDONLY_PROG, MapType
from ..maps.spec import MapSpec
from ..record import field, record


@record
class Externs:
    ksyms: dict[str, int] = field(default_factory=dict)        # typed ksym/kfunc → kernel BTF id
    ksym_addrs: dict[str, int] = field(default_factory=dict)   # untyped ksym → address
    kconfig_offsets: dict[str, int] = field(default_factory=dict)  # kconfig extern → offset
    kconfig_map: MapSpec | None = None                      # the ".kconfig" data map


def layout(spec, kernel):
    """Externs of ObjectSpec ``spec``, resolved against the running kernel
    (``kernel``: a KernelMemo answering BTF type-id questions)."""
    out = Externs()
    kconfig = [e for e in spec.externs.values() if e.kind == "kconfig"]
    if kconfig:
        # libbpf's virtual LINUX_* externs need no configuration: reading and
        # parsing /proc/config.gz costs ~10 ms at every start
        values = {}
        if any(e.name not in _VIRTUAL and e.name != "LINUX_KERNEL_VERSION" for e in kconfig):
            from ..kernel.kconfig import kconfig_values
            values = kconfig_values()
        data = bytearray()
        for ext in kconfig:
            size = spec.btf.size_of(ext.type_id)
            align = spec.btf.align_of(ext.type_id)
            data.extend(b"\0" * (-len(data) % align))
            out.kconfig_offsets[ext.name] = len(data)
            data.extend(_kconfig_bytes(spec.btf, ext, values, size))
        out.kconfig_map = MapSpec(
            "kconfig", MapType.ARRAY, 4, max(len(data), 1), 1, flags=BPF_F_RDONLY_PROG | BPF_F_MMAPABLE,
            data=bytearray(data or b"\0"), section=".kconfig", freeze=True)
    for ext in spec.externs.values():
        if ext.kind == "kconfig":
            continue
        kind = bt.FUNC if ext.kind == "kfunc" else bt.VAR
        if kind == bt.VAR and spec.btf.strip(ext.type_id).kind == bt.UNKN:
            # an untyped (void) ksym is an address from kallsyms, as in libbpf
            from ..symbols import ksymname
            addr = ksymname(ext.name)
            if addr is not None and addr >= 0:
                out.ksym_addrs[ext.name] = addr
            elif not ext.weak:
                raise LoadError(f"{spec.path}: extern {ext.name} (__ksym) is not in "
                                f"/proc/kallsyms (data symbols need CONFIG_KALLSYMS_ALL)")
            continue
        type_id = kernel.type_id(ext.name, (kind,))
        if type_id is not None:
            out.ksyms[ext.name] = type_id
        elif not ext.weak:
            raise LoadError(f"{spec.path}: extern {ext.name} (__ksym) is not in the "
                            f"kernel's BTF" + (" (data symbols need CONFIG_KALLSYMS_ALL and "
                                               "BTF for variables)" if kind == bt.VAR else ""))
    return out


def kernel_version_code():
    """KERNEL_VERSION(a, b, c) of the running kernel, as libbpf computes it."""
    rel = os.uname().release.split("-")[0].split(".")
    nums = [int("".join(ch for ch in p if ch.isdigit()) or 0) for p in rel[:3]] + [0, 0, 0]
    return (nums[0] << 16) | (nums[1] << 8) | min(nums[2], 255)


# libbpf's virtual __kconfig externs: facts about the running kernel that no
# CONFIG_ line states (LINUX_KERNEL_VERSION is computed above).
_VIRTUAL = {
    "LINUX_HAS_BPF_COOKIE": features.has_bpf_cookie,
    "LINUX_HAS_SYSCALL_WRAPPER": features.has_syscall_wrapper,
}


def _kconfig_bytes(btf, ext, values, size):
    name = ext.name
    if name == "LINUX_KERNEL_VERSION":
        return kernel_version_code().to_bytes(size, "little")
    if name in _VIRTUAL:
        return int(_VIRTUAL[name]()).to_bytes(size, "little")
    raw = values.get(name)
    t = btf.strip(ext.type_id)
    if raw is None:
        if not ext.weak:
            raise LoadError(f"extern {name} (__kconfig): the kernel configuration does not set it")
        return bytes(size)
    if t.kind == bt.ARRAY:
        return raw.strip('"').encode()[:size - 1].ljust(size, b"\0")
    if raw in ("y", "m", "n"):
        if t.kind == bt.ENUM:   # enum libbpf_tristate: no, yes, module
            return {"n": 0, "y": 1, "m": 2}[raw].to_bytes(size, "little")
        return (1 if raw in ("y", "m") else 0).to_bytes(size, "little")
    return (int(raw, 0) & ((1 << (8 * size)) - 1)).to_bytes(size, "little")
