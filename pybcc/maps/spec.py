"""What a map object needs to know about its map, and how to learn it from the kernel.

The loader may hand map objects its own spec class: anything with these
attribute names works (missing ones default as below).
"""
import ctypes
import os
import struct
from dataclasses import dataclass
from typing import Any, Optional

from ..kernel import syscalls
from ..kernel.uapi import Cmd, MapType


@dataclass
class MapSpec:
    name: str = ""
    type: MapType = MapType.HASH
    key_size: int = 4
    value_size: int = 4
    max_entries: int = 1
    flags: int = 0
    btf: Any = None                 # a pybcc.btf.BTF, or None
    btf_key_type_id: int = 0
    btf_value_type_id: int = 0
    inner: Optional["MapSpec"] = None   # map-in-map: the inner maps' spec
    pinning: Any = None
    id: int = 0                     # the kernel's map id, when known


def spec_field(spec, name, default=None):
    return getattr(spec, name, default) if spec is not None else default


# struct bpf_map_info (linux/bpf.h): the fields we use, at their offsets.
_MAP_INFO = {"type": (0, "I"), "id": (4, "I"), "key_size": (8, "I"), "value_size": (12, "I"),
             "max_entries": (16, "I"), "map_flags": (20, "I"), "name": (24, "16s"),
             "btf_id": (64, "I"), "btf_key_type_id": (68, "I"), "btf_value_type_id": (72, "I")}
# struct bpf_btf_info.
_BTF_INFO = {"btf": (0, "Q"), "btf_size": (8, "I"), "id": (12, "I")}


def _get(layout, buf, name):
    off, fmt = layout[name]
    return struct.unpack_from("<" + fmt, buf, off)[0]


def map_info(fd):
    """The kernel's bpf_map_info for a map fd, as a dict."""
    buf = ctypes.create_string_buffer(96)
    syscalls.obj_info(fd, buf)
    info = {k: _get(_MAP_INFO, buf, k) for k in _MAP_INFO}
    info["name"] = info["name"].split(b"\0", 1)[0].decode(errors="replace")
    return info


def btf_by_id(btf_id):
    """Fetch and parse the BTF object ``btf_id`` from the kernel (None if gone)."""
    from ..btf import BTF
    try:
        fd = syscalls.fd_by_id(Cmd.BTF_GET_FD_BY_ID, btf_id)
    except OSError:
        return None
    try:
        buf = ctypes.create_string_buffer(32)
        syscalls.obj_info(fd, buf)
        size = _get(_BTF_INFO, buf, "btf_size")
        data = ctypes.create_string_buffer(size)
        buf = ctypes.create_string_buffer(32)     # second call: point .btf at our buffer
        struct.pack_into("<QI", buf, 0, ctypes.addressof(data), size)
        syscalls.obj_info(fd, buf)
        raw = data.raw
    finally:
        os.close(fd)
    try:
        return BTF.parse(raw)
    except (ValueError, IndexError):
        return BTF.parse(raw, BTF.kernel())   # split BTF on top of vmlinux (modules)


def spec_from_fd(fd, with_btf=True):
    """A MapSpec recovered from the kernel for an open map fd (pinned or by id)."""
    info = map_info(fd)
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
