"""MapSpec: one map described before it exists (from an ELF object, or
written by hand for create_map), and recovered from the kernel for an open fd.
"""
from __future__ import annotations

import os

from ..kernel import bpf
from ..kernel.bpf import map_info  # noqa: F401  (maps.map_info)
from ..kernel.uapi import Cmd, MapType
from ..record import field, record

# libbpf's pinning values for BTF-defined maps (LIBBPF_PIN_*).
PIN_NONE = 0
PIN_BY_NAME = 1


@record
class MapSpec:
    name: str = ""
    type: MapType = MapType.HASH    # a plain int for a type newer than MapType
    key_size: int = 4
    value_size: int = 4
    max_entries: int = 1
    flags: int = 0
    btf: object = None                 # a pybcc.btf.BTF, or None
    btf_key_type_id: int = 0
    btf_value_type_id: int = 0
    inner: MapSpec | None = None   # map-in-map: the inner maps' spec
    pinning: int = PIN_NONE
    id: int = 0                     # the kernel's map id, when known
    numa_node: int = 0
    map_extra: int = 0
    # From an ELF object:
    init_slots: dict[int, str] = field(default_factory=dict)  # slot → map/program name
    data: bytearray | None = None  # initial contents of a global-data map
    section: str = ""                 # ELF section of a global-data map
    freeze: bool = False              # freeze after filling (.rodata, .kconfig)


def btf_by_id(btf_id):
    """Fetch and parse the BTF object ``btf_id`` from the kernel (None if gone)."""
    from ..btf import BTF
    try:
        fd = bpf.fd_by_id(Cmd.BTF_GET_FD_BY_ID, btf_id)
    except OSError:
        return None
    try:
        raw = bpf.btf_data(fd)
    finally:
        os.close(fd)
    try:
        return BTF.parse(raw)
    except (ValueError, IndexError):
        return BTF.parse(raw, BTF.kernel())   # split BTF on top of vmlinux (modules)


def spec_from_fd(fd, with_btf=True):
    """A MapSpec recovered from the kernel for an open map fd (pinned or by id)."""
    info = bpf.map_info(fd)
    try:
        mtype = MapType(info["type"])
    except ValueError:
        mtype = info["type"]
    btf = btf_by_id(info["btf_id"]) if with_btf and info["btf_id"] else None
    return MapSpec(name=info["name"], type=mtype, key_size=info["key_size"],
                   value_size=info["value_size"], max_entries=info["max_entries"],
                   flags=info["map_flags"], btf=btf,
                   btf_key_type_id=info["btf_key_type_id"] if btf else 0,
                   btf_value_type_id=info["btf_value_type_id"] if btf else 0,
                   id=info["id"])
