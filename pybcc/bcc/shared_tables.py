"""Tables shared between the BPF objects of one process, as bcc shares them.

BPF_TABLE_PUBLIC / BPF_TABLE_SHARED publish a table under its name;
BPF_TABLE("extern", ...) in a later BPF object uses the published map instead
of creating its own (the loader gets the map's fd to reuse). A table stays
published while the object that created it is open.
"""
import weakref

from ..errors import LoadError
from ..kernel import bpf

_published = {}      # table name → weakref to the BPF object that owns the map


def _owner_fd(name):
    ref = _published.get(name)
    owner = ref() if ref is not None else None
    if owner is None or owner._closed or owner._coll is None:
        return None
    return owner._coll.map_fds.get(name)


def maps_to_reuse(tables, spec):
    """{name: fd} of the published maps that ``tables``' extern tables refer
    to; their specs in ``spec`` take the real maps' type and sizes."""
    reuse = {}
    for name, decl in tables.items():
        if getattr(decl, "scope", "") != "extern":
            continue
        fd = _owner_fd(name)
        if fd is None:
            raise LoadError(f"extern table {name}: no open BPF object has a "
                            f"BPF_TABLE_PUBLIC or BPF_TABLE_SHARED table of that name")
        info = bpf.map_info(fd)
        ms = spec.maps[name]
        ms.type, ms.key_size, ms.value_size = info["type"], info["key_size"], info["value_size"]
        ms.max_entries, ms.flags = info["max_entries"], info["map_flags"]
        reuse[name] = fd
    return reuse


def publish(bpf_obj, tables):
    """Publish ``bpf_obj``'s public and shared tables."""
    for name, decl in tables.items():
        if getattr(decl, "scope", "") in ("public", "shared"):
            _published[name] = weakref.ref(bpf_obj)
