"""A vmlinux.h of only the kernel types a program names.

The whole vmlinux.h (cgen.generate) declares the ~20k named types of a
kernel's BTF: ~3 MB that takes Python over a second to write and clang a
third of a second to parse (or ~0.7 s to precompile). A program names a few
dozen of them. ``KernelTypes`` finds types by name in a lazily parsed BTF
without decoding the others, and ``header(words)`` declares the types the
program's identifiers name, with everything they hold by value; records
reached only through pointers are forward declarations. A program that
dereferences one of those without naming it (``task->mm->arg_start``) gets
clang's "incomplete type 'struct mm_struct'": ``missing(output)`` reads such
names from clang's errors, and the caller compiles again with them added.
"""
import re

from . import types as bt
from .cgen import CGenerator
from .types import ENUM, ENUM64, FWD, INT, STRUCT, TYPEDEF, UNION

_WORD = re.compile(r"[A-Za-z_]\w*")
# `struct x` / `union x` / `enum x`: the only way a program names a tag.
_TAG_USE = re.compile(r"\b(?:struct|union|enum)\s+([A-Za-z_]\w*)")
# What clang says about a type or name it has no (complete) declaration of.
_MISSING = re.compile(
    r"(?:incomplete|unknown type name|undeclared identifier|implicit declaration)"
    r"[^\n]*?'((?:(?:const|volatile)\s+)?(?:(?:struct|union|enum)\s+)?\w+)'"
    r"(?: \(aka '((?:(?:const|volatile)\s+)?(?:(?:struct|union|enum)\s+)?\w+)')?")


def words(text):
    """(tag names, other identifiers) a C text uses."""
    return set(_TAG_USE.findall(text)), set(_WORD.findall(text))


# Bump when the index's content changes: remembered indexes are keyed by it.
INDEX_VERSION = 2


class KernelTypes:
    """Names of one BTF's types and enumerators, and headers of a few of them.

    ``btf``: the BTF, or a function returning it, called only when a header
    or a record's members are wanted; ``index``: what ``index()`` returned
    for the same BTF before (names need no BTF parse then)."""

    def __init__(self, btf, index=None):
        self._btf = btf
        if index is None:
            index = _names_index(self.btf)
        self.tags, self.typedefs, self.enumerators, records = index
        self._records = set(records)

    @property
    def btf(self):
        if callable(self._btf):
            self._btf = self._btf()
        return self._btf

    def index(self):
        """The names, as plain dicts and lists (what cache.write_memo keeps)."""
        return [self.tags, self.typedefs, self.enumerators, sorted(self._records)]

    # --- facts about the whole BTF (what the full header would declare) -----

    def record_names(self):
        """Names of the structs and unions (the full header defines them all)."""
        return self._records

    def type_names(self):
        """Tag and typedef names."""
        return set(self.tags) | set(self.typedefs)

    def records(self, name):
        return [self.btf[i] for i in self.tags.get(name, ()) if self.btf[i].kind in (STRUCT, UNION)]

    def has_bitfield(self, record, member):
        """Whether ``record`` (any struct or union of that name) has a bitfield
        ``member``, also inside its anonymous members (C names those directly)."""
        return any(self._bitfield_in(t, member, 0) for t in self.records(record))

    def _bitfield_in(self, t, member, depth):
        btf = self.btf
        for m in t.members:
            if m.name == member and (m.bitfield_size or _int_bits(btf, m.type)):
                return True
            if not m.name and depth < bt.MAX_DEPTH:
                inner = btf.strip(m.type)
                if inner.kind in (STRUCT, UNION) and self._bitfield_in(inner, member, depth + 1):
                    return True
        return False

    def record_body(self, kind, name):
        """The member lines of ``kind name`` as the full header spells them
        (the first record of that name), or None."""
        want = STRUCT if kind == "struct" else UNION
        for t in self.records(name):
            if t.kind == want:
                lines = CGenerator(self.btf, decode_all=False).record(t, 0).split("\n")
                return "\n".join(lines[1:-1]) + "\n"
        return None

    # --- headers of a few types ------------------------------------------------

    def ids_for(self, tags, idents):
        """Type ids named by ``tags`` (struct/union/enum names) and ``idents``
        (any identifier: typedef names, enumerators)."""
        ids = set()
        for n in tags:
            ids.update(self.tags.get(n, ()))
        for n in idents:
            ids.update(self.typedefs.get(n, ()))
            ids.update(self.enumerators.get(n, ()))
        return ids

    def header(self, tags, idents):
        """vmlinux.h text declaring the types named (see ids_for)."""
        return CGenerator(self.btf, decode_all=False).generate(self.ids_for(tags, idents))

    def missing(self, output):
        """(tags, idents) of this BTF that clang's ``output`` says were not
        declared or not complete; empty sets when it names none."""
        tags, idents = set(), set()
        for m in _MISSING.finditer(output or ""):
            for spelled in m.groups():
                if not spelled:
                    continue
                parts = spelled.split()
                name = parts[-1]
                if len(parts) > 1 and parts[-2] in ("struct", "union", "enum"):
                    if name in self.tags:
                        tags.add(name)
                elif name in self.typedefs or name in self.enumerators:
                    idents.add(name)
        return tags, idents


def _names_index(btf):
    """(tags, typedefs, enumerators, record names) of ``btf``: each type's
    name read once (the records' names are the structs' and unions' tags)."""
    records = btf.own_names((STRUCT, UNION))
    tags = dict(records)
    for name, ids in btf.own_names((ENUM, ENUM64, FWD)).items():
        tags[name] = sorted([*tags.get(name, ()), *ids])
    return tags, btf.own_names((TYPEDEF,)), btf.own_enumerators(), list(records)


def _int_bits(btf, tid):
    """An old-style INT bitfield (bits narrower than the type)."""
    t = btf.strip(tid)
    return t.kind == INT and t.bits != t.size * 8
