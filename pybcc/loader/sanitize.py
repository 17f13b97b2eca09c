"""The object's BTF, made acceptable to the kernel before loading.

Extern variables, functions and sections are always rewritten (the kernel
takes no externs). BTF kinds the running kernel does not know yet are
replaced as libbpf replaces them, keeping every type id: FLOAT becomes an
empty struct of its size, DECL_TAG a one-byte int, TYPE_TAG a const,
ENUM64 a union of one-byte ints (and enums lose their signedness flag).
The rewrite works on a copy, so map values still decode by the real types.
"""
from ..btf import types as bt
from ..kernel import features

NEWER_KINDS = (bt.FLOAT, bt.DECL_TAG, bt.TYPE_TAG, bt.ENUM64)


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
    return _without_unknown_kinds(btf)


def _int_type(btf):
    """The id of a 4-byte signed int in ``btf``, added if it has none."""
    for t in btf.own_types:
        if t.kind == bt.INT and t.size == 4 and t.encoding & bt.INT_SIGNED and t.bits == 32:
            return t.id
    return btf.add(bt.Type(0, bt.INT, "int", size=4, encoding=bt.INT_SIGNED, bits=32))


def _without_unknown_kinds(btf, supported=None):
    """``btf``, or a copy with the kinds this kernel lacks rewritten."""
    supported = supported or features.btf_kind_supported
    present = {t.kind for t in btf.own_types}
    missing = {k for k in NEWER_KINDS if k in present and not supported(k)}
    if not missing:
        return btf
    copy = bt.BTF.parse(btf.to_bytes())
    placeholder = None
    for t in list(copy.own_types):
        if t.kind == bt.FLOAT and bt.FLOAT in missing:
            t.kind, t.name, t.members = bt.STRUCT, "", []
        elif t.kind == bt.DECL_TAG and bt.DECL_TAG in missing:
            t.kind, t.name, t.size, t.ref, t.linkage = bt.INT, "", 1, 0, 0
            t.encoding, t.bits, t.int_offset = 0, 8, 0
        elif t.kind == bt.TYPE_TAG and bt.TYPE_TAG in missing:
            t.kind, t.name = bt.CONST, ""
        elif t.kind == bt.ENUM and bt.ENUM64 in missing:
            t.kind_flag = False
        elif t.kind == bt.ENUM64 and bt.ENUM64 in missing:
            if placeholder is None:
                placeholder = copy.add(bt.Type(0, bt.INT, "enum64_placeholder", size=1, bits=8))
            t.kind, t.kind_flag = bt.UNION, False
            t.members = [bt.Member(v.name, placeholder, 0) for v in t.members]
    return copy
