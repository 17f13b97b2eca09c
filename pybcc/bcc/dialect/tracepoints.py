"""Structs for tracepoint arguments (bcc's `args`), from tracefs format files."""
import re

from ...kernel import tracefs

_C_WORDS = {"const", "volatile", "unsigned", "signed", "char", "short", "int", "long",
            "void", "struct", "union", "enum", "_Bool", "float", "double"}
_INT = {(1, True): "__s8", (1, False): "__u8", (2, True): "__s16", (2, False): "__u16",
        (4, True): "__s32", (4, False): "__u32", (8, True): "__s64", (8, False): "__u64"}


def struct_name(category, event):
    return f"tracepoint__{category}__{event}"


def _int_type(size, signed):
    return _INT.get((size, signed))


def _pointer_type(ctype, known_types):
    """Keep a pointer type as written when vmlinux.h declares every name in it."""
    words = re.findall(r"[A-Za-z_]\w*", ctype.replace("__user", ""))
    if all(w in _C_WORDS or w in known_types for w in words):
        return ctype.replace("__user", "").strip()
    return "void *"


def _field_decl(f, known_types):
    """-> (C declaration, alignment) for one format field."""
    if f.data_loc:
        return f"__u32 data_loc_{f.name}", 4
    base = re.sub(r"\[\w*\]$", "", f.type).strip()
    if f.array_len or f.type.endswith("]"):
        n = f.array_len or 0
        if n and f.size % n == 0:
            es = f.size // n
            if base in ("char", "unsigned char", "signed char"):
                et = base
            else:
                et = _int_type(es, f.signed) or "__u8"
                if et == "__u8":
                    n = f.size
            return f"{et} {f.name}[{n}]", min(es, 8) if et != "__u8" else 1
        return f"__u8 {f.name}[{f.size}]", 1
    if "*" in f.type and f.size == 8:
        return f"{_pointer_type(f.type, known_types)} {f.name}", 8
    t = _int_type(f.size, f.signed)
    if t is None:
        return f"__u8 {f.name}[{f.size}]", 1
    return f"{t} {f.name}", f.size


def struct_text(category, event, known_types=frozenset(), fmt=None):
    """One line of C declaring struct tracepoint__CAT__EVENT with the fields of
    the tracepoint at their tracefs offsets. Raises tracefs.TracepointNotFound."""
    fmt = fmt or tracefs.tracepoint_format(category, event)
    name = struct_name(category, event)
    decls, asserts, pos, packed = [], [], 0, False
    for i, f in enumerate(sorted(fmt.fields, key=lambda f: f.offset)):
        decl, align = _field_decl(f, known_types)
        if f.offset < pos:
            continue   # overlapping field (should not happen): keep the first
        if f.offset > pos:
            decls.append(f"char __pad_{i}[{f.offset - pos}]")
        if f.offset % align:
            packed = True
        decls.append(decl)
        pos = f.offset + f.size
        asserts.append(f"_Static_assert(__builtin_offsetof(struct {name}, {f.name if not f.data_loc else 'data_loc_' + f.name}) == {f.offset}, \"tracepoint {category}:{event} field {f.name}\");")
    attr = " __attribute__((packed))" if packed else ""
    return f"struct {name} {{ {'; '.join(decls)}; }}{attr}; " + " ".join(asserts)
