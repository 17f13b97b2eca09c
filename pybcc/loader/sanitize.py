"""The object's BTF, made acceptable to the kernel before loading."""
from ..btf import types as bt


def sanitized(btf):
    """Make the object's BTF acceptable to the kernel, in place: extern
    variables and functions become ordinary ones, extern sections (.kconfig,
    .ksyms) get a layout and lose their functions. Nothing that decodes
    values depends on what changes."""
    int_id = None
    for t in btf.own_types:
        if t.kind == bt.VAR and t.linkage > 1:
            t.linkage = 1
            if btf.strip(t.ref).kind == bt.UNKN:
                # an untyped ksym (const void): the kernel wants a sized type
                if int_id is None:
                    int_id = _int_type(btf)
                t.ref = int_id
        elif t.kind == bt.FUNC and t.linkage > 1:
            t.linkage = 0
    for t in btf.own_types:
        if t.kind != bt.DATASEC:
            continue
        if any(btf[v.type].kind == bt.FUNC for v in t.members):
            t.members = [v for v in t.members if btf[v.type].kind != bt.FUNC]
            t.size = 0
        if t.size == 0 and t.members:
            off = 0
            for v in t.members:
                v.size = btf.size_of(btf[v.type].ref)
                v.offset, off = off, off + v.size
            t.size = off
    return btf


def _int_type(btf):
    """The id of a 4-byte signed int in ``btf``, added if it has none."""
    for t in btf.own_types:
        if t.kind == bt.INT and t.size == 4 and t.encoding & bt.INT_SIGNED and t.bits == 32:
            return t.id
    return btf.add(bt.Type(0, bt.INT, "int", size=4, encoding=bt.INT_SIGNED, bits=32))
