"""Generate C declarations (a vmlinux.h) from BTF.

``generate(btf)`` returns a header declaring every named struct, union, enum
and typedef of the BTF, in an order clang accepts, with the layout of every
record equal to the BTF one (explicit padding bitfields, ``packed`` where
natural alignment cannot reproduce the offsets, ``mode`` on enums whose size
is not 4).  ``vmlinux_header(path)`` returns a directory holding a cached
vmlinux.h for a BTF file.
"""
import hashlib
import os
import sys

from .. import cache
from . import types as bt
from .types import (ARRAY, CONST, ENUM, ENUM64, FLOAT, FUNC_PROTO, FWD, INT, PTR, RESTRICT,
                    STRUCT, TYPE_TAG, TYPEDEF, UNION, VOLATILE)

# Per-type emission states.
_NONE, _VISITING, _DONE = 0, 1, 2

_QUAL = {CONST: "const", VOLATILE: "volatile", RESTRICT: "restrict"}
_ENUM_MODE = {1: "byte", 2: "HI", 8: "DI"}
# Unnamed bitfield types used for padding, by storage-unit width in bits.
_PAD_TYPES = ((8, "char"), (16, "short"), (32, "int"), (64, "long"))
_ORDERED_KINDS = (CONST, VOLATILE, RESTRICT, TYPE_TAG, ARRAY, PTR, FUNC_PROTO)
# Compiler built-ins that must not be redeclared.
_SKIP_TYPEDEFS = {"__builtin_va_list"}

_TAG_MACRO = "__pybcc_type_tag"
_PROLOGUE = """\
#ifndef __VMLINUX_H__
#define __VMLINUX_H__

#ifndef BPF_NO_PRESERVE_ACCESS_INDEX
#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)
#endif
"""
_TAG_PROLOGUE = """
#ifndef %(m)s
#if defined(__has_attribute) && __has_attribute(btf_type_tag)
#define %(m)s(x) __attribute__((btf_type_tag(x)))
#else
#define %(m)s(x)
#endif
#endif
""" % {"m": _TAG_MACRO}
_EPILOGUE = """
#ifndef BPF_NO_PRESERVE_ACCESS_INDEX
#pragma clang attribute pop
#endif

#endif /* __VMLINUX_H__ */
"""


class _Layout:
    """How a record is spelled: members and padding in order, packed or not."""
    __slots__ = ("items", "packed", "align")

    def __init__(self, items, packed, align):
        self.items = items      # (member, bits) or (None, (start_bit, nbits)) for padding
        self.packed = packed
        self.align = align      # alignment of the emitted record, in bytes


class CGenerator:
    def __init__(self, btf, type_tags=True, decode_all=True):
        self.btf = btf
        # The whole header reads every type: decode them all at once. A few
        # types (closure.py) read them one by one, as the BTF decodes them.
        self.T = [btf[i] for i in range(len(btf))] if decode_all else btf
        self.type_tags = type_tags
        n = len(self.T)
        self.state = bytearray(n)
        self.declared = bytearray(n)      # forward declaration emitted
        self.complete = bytearray(n)      # typedef whose target is complete
        self.names = {}                   # type id -> C name after de-duplication
        self.tag_names = {}               # struct/union/enum tags: name -> count
        self.ident_names = {}             # typedefs and enumerators: name -> count
        self.layouts = {}
        self.sizes = {}
        self.busy = set()                 # anonymous types being walked (guards malformed BTF)
        self.out = []

    # --- names ---------------------------------------------------------------

    def name(self, tid):
        n = self.names.get(tid)
        if n is None:
            t = self.T[tid]
            n = t.name
            if t.kind == FWD:
                # A forward declaration names whichever record has that name.
                self.names[tid] = n
                return n
            ns = self.ident_names if t.kind == TYPEDEF else self.tag_names
            c = ns.get(n, 0) + 1
            ns[n] = c
            if c > 1:
                n = f"{n}___{c}"
            self.names[tid] = n
        return n

    def enumerator(self, name):
        c = self.ident_names.get(name, 0) + 1
        self.ident_names[name] = c
        return name if c == 1 else f"{name}___{c}"

    # --- sizes and layout ----------------------------------------------------

    def size(self, tid):
        s = self.sizes.get(tid)
        if s is None:
            t = self.T[tid]
            k = t.kind
            if k in (INT, STRUCT, UNION, ENUM, ENUM64, FLOAT):
                s = t.size
            elif k == PTR:
                s = 8
            elif k == ARRAY:
                s = t.nelems * self.size(t.ref)
            elif k in (TYPEDEF, CONST, VOLATILE, RESTRICT, TYPE_TAG):
                s = self.size(t.ref)
            else:
                s = 0
            self.sizes[tid] = s
        return s

    def align(self, tid):
        """Alignment (bytes) of a type as the emitted header makes clang see it."""
        T = self.T
        t = T[tid]
        while t.kind in (TYPEDEF, CONST, VOLATILE, RESTRICT, TYPE_TAG, ARRAY):
            t = T[t.ref]
        k = t.kind
        if k in (INT, ENUM, ENUM64, FLOAT):
            return min(t.size, 16) or 1   # __int128 is 16-aligned, also for -target bpf
        if k == PTR:
            return 8
        if k in (STRUCT, UNION):
            return self.layout(t.id).align
        return 1

    def layout(self, tid):
        lay = self.layouts.get(tid)
        if lay is None:
            t = self.T[tid]
            # Placeholder first: a record containing itself (malformed BTF) must not loop.
            self.layouts[tid] = _Layout([], True, 1)
            plan = self._plan_union if t.kind == UNION else self._plan_struct
            lay = plan(t, False) or plan(t, True)
            if lay is None:           # inconsistent BTF: emit members as they are
                lay = _Layout([(m, self._bits(m)) for m in t.members], True, 1)
            self.layouts[tid] = lay
        return lay

    def _bits(self, m):
        """Bitfield width of a member (0 if not a bitfield), also for old-style INT bitfields."""
        if m.bitfield_size:
            return m.bitfield_size
        t = self.T[m.type]
        while t.kind in (TYPEDEF, CONST, VOLATILE, RESTRICT, TYPE_TAG):
            t = self.T[t.ref]
        if t.kind == INT and t.bits != t.size * 8:
            return t.bits
        return 0

    def _plan_struct(self, t, packed):
        """Place members the way clang would and add padding up to each BTF offset.
        None if the natural (or packed) placement would go past an offset."""
        items = []
        cur = 0
        max_align = 1
        for m in t.members:
            off = m.bit_offset
            bits = self._bits(m)
            a = 1 if packed else self.align(m.type)
            if bits:
                unit = self.size(m.type) * 8
                pos = cur
                if not packed and unit and pos // unit != (pos + bits - 1) // unit:
                    pos = (pos + a * 8 - 1) // (a * 8) * (a * 8)
                if pos > off:
                    return None
                if not packed and unit and off // unit != (off + bits - 1) // unit:
                    return None
                end = off + bits
            else:
                ab = a * 8
                pos = (cur + ab - 1) // ab * ab
                if pos > off or off % ab:
                    return None
                end = off + self.size(m.type) * 8
            if off > cur and pos < off:
                items.append((None, (cur, off - cur)))
            items.append((m, bits))
            cur = end
            if a > max_align:
                max_align = a
        want = t.size * 8
        ab = max_align * 8
        if (cur + ab - 1) // ab * ab > want or want % ab:
            return None
        if cur < want and (cur + ab - 1) // ab * ab < want:
            items.append((None, (cur, want - cur)))
        return _Layout(items, packed, max_align)

    def _plan_union(self, t, packed):
        items = []
        biggest = 0
        max_align = 1
        for m in t.members:
            bits = self._bits(m)
            a = 1 if packed else self.align(m.type)
            size = (bits + 7) // 8 if bits else self.size(m.type)
            if m.bit_offset:
                return None
            biggest = max(biggest, size)
            max_align = max(max_align, a)
            items.append((m, bits))
        natural = (biggest + max_align - 1) // max_align * max_align
        if natural > t.size or t.size % max_align:
            return None
        if natural < t.size:
            # An unnamed bitfield as wide as the union widens it (at most 64 bits).
            if t.size > 8:
                return None
            items.append((None, (0, t.size * 8)))
        return _Layout(items, packed, max_align)

    # --- dependency walk -----------------------------------------------------

    def _under_wrappers(self, tid):
        """The type below ``tid``'s qualifiers, arrays and pointers, and
        whether a pointer was among them."""
        T = self.T
        t = T[tid]
        ptr = False
        while t.kind in (CONST, VOLATILE, RESTRICT, TYPE_TAG, ARRAY, PTR):
            ptr = ptr or t.kind == PTR
            t = T[t.ref]
        return t, ptr

    def deps(self, tid, by_value, cont):
        """Emit what a use of ``tid`` needs first: definitions of types used by
        value, forward declarations of records used through pointers."""
        t, ptr = self._under_wrappers(tid)
        by_value = by_value and not ptr
        k = t.kind
        if k == STRUCT or k == UNION:
            if not t.name:
                if t.id in self.busy:         # only in malformed BTF
                    return
                self.busy.add(t.id)
                for m in t.members:
                    self.deps(m.type, True, cont)
                self.busy.discard(t.id)
            elif by_value and self.state[t.id] != _VISITING:
                self.define(t.id)
            else:
                self.declare(t.id, cont)
        elif k == TYPEDEF:
            self.define_typedef(t.id, by_value)
        elif k == ENUM or k == ENUM64:
            if t.name:
                self.define(t.id)
        elif k == FUNC_PROTO:
            self.deps(t.ref, False, cont)
            for p in t.members:
                if p.type:
                    self.deps(p.type, False, cont)
        elif k == FWD:
            self.declare(t.id, cont)

    def value_deps(self, tid, cont, through_ptr=False):
        """Define what a use of ``tid`` needs complete, and typedefs reached
        through pointers that need no forward declaration (bpftool's order).
        Returns False if the type needs a forward declaration to be used."""
        t, ptr = self._under_wrappers(tid)
        through_ptr = through_ptr or ptr
        k = t.kind
        if k == STRUCT or k == UNION:
            if not t.name:
                if t.id not in self.busy:
                    self.busy.add(t.id)
                    for m in t.members:
                        self.value_deps(m.type, cont)
                    self.busy.discard(t.id)
                return True
            if through_ptr or self.state[t.id] == _VISITING:
                return self.state[t.id] == _DONE
            self.define(t.id)
        elif k == TYPEDEF:
            st = self.state[t.id]
            if st == _DONE and (through_ptr or self.complete[t.id]):
                return True
            if not through_ptr:
                self.define_typedef(t.id, True)
            elif st == _VISITING or not self.value_deps(t.ref, cont, True):
                return False
            else:
                self.define_typedef(t.id, False)
        elif k == ENUM or k == ENUM64:
            if t.name:
                self.define(t.id)
        elif k == FUNC_PROTO:
            strong = self.value_deps(t.ref, cont, through_ptr)
            for p in t.members:
                if p.type and not self.value_deps(p.type, cont, through_ptr):
                    strong = False
            return strong
        elif k == FWD:
            if t.name:
                self.declare(t.id, cont)
        return True

    def declare(self, tid, cont=0):
        if tid == cont or self.declared[tid] or self.state[tid] == _DONE:
            return
        t = self.T[tid]
        if t.kind == FWD:
            kw = "union" if t.kind_flag else "struct"
        else:
            kw = "union" if t.kind == UNION else "struct"
        self.declared[tid] = 1
        self.out.append(f"{kw} {self.name(tid)};\n\n")

    def define(self, tid):
        """Emit the definition of a named struct, union or enum."""
        if self.state[tid]:
            return
        self.state[tid] = _VISITING
        t = self.T[tid]
        if t.kind in (STRUCT, UNION):
            # Types used by value first, then forward declarations for the
            # rest: the order bpftool emits them in.
            for m in t.members:
                self.value_deps(m.type, tid)
            for m in t.members:
                self.deps(m.type, True, tid)
            text = self.record(t, 0) + ";\n\n"
        elif not t.members:
            text = f"enum {self.name(tid)};\n\n"     # BTF of a forward-declared enum
        else:
            text = self.enum(t, 0) + ";\n\n"
        self.out.append(text)
        self.state[tid] = _DONE

    def define_typedef(self, tid, by_value):
        st = self.state[tid]
        t = self.T[tid]
        if st == _DONE:
            if by_value and not self.complete[tid]:
                self.complete[tid] = 1
                self.deps(t.ref, True, tid)
            return
        if t.name in _SKIP_TYPEDEFS:
            # Not declared, but what it refers to still is (as bpftool does).
            if st == _NONE:
                self.state[tid] = _DONE
                self.deps(t.ref, by_value, tid)
            return
        if st == _VISITING:
            # Reached again through a pointer while its target is being defined
            # (typedef struct s t; struct s { t *next; }): a forward declaration
            # of the target is enough to emit the typedef right now.
            self.deps(t.ref, False, tid)
        else:
            self.state[tid] = _VISITING
            self.deps(t.ref, by_value, tid)
            if self.state[tid] == _DONE:
                return
            self.complete[tid] = by_value
        self.out.append(f"typedef {self.decl(t.ref, self.name(tid), 0)};\n\n")
        self.state[tid] = _DONE

    # --- rendering -----------------------------------------------------------

    def decl(self, tid, d, indent):
        """C declaration of ``d`` (a name, or "" for an abstract declarator) of type ``tid``."""
        T = self.T
        quals = []
        tags = []
        while True:
            t = T[tid]
            k = t.kind
            if k == PTR:
                if quals or tags:
                    d = "*" + " ".join(tags + quals) + (" " + d if d else "")
                    quals, tags = [], []
                else:
                    d = "*" + d
            elif k in _QUAL:
                if _QUAL[k] not in quals:
                    quals.append(_QUAL[k])
            elif k == TYPE_TAG:
                # kind_flag marks a compiler attribute (e.g. GCC's address_space),
                # not a btf_type_tag: meaningless, even harmful, in a BPF program.
                if self.type_tags and not t.kind_flag:
                    tags.append(f'{_TAG_MACRO}("{t.name}")')
            elif k == ARRAY:
                if d[:1] == "*":
                    d = f"({d})"
                d = f"{d}[{t.nelems}]"
            elif k == FUNC_PROTO:
                if d[:1] == "*":
                    d = f"({d})"
                d = f"{d}({self.params(t, indent)})"
                quals = []
            else:
                break
            tid = t.ref
        base = self.base(t, indent)
        if quals:
            base = " ".join(quals) + " " + base
        if tags:
            base = base + " " + " ".join(tags)
        if not d:
            return base
        return base + " " + d

    def params(self, t, indent):
        ps = t.members
        if not ps:
            return "void"
        out = []
        for p in ps:
            out.append("..." if p.type == 0 else self.decl(p.type, "", indent))
        return ", ".join(out)

    def base(self, t, indent):
        k = t.kind
        if k in (STRUCT, UNION):
            if not t.name:
                if t.id in self.busy:         # an anonymous record inside itself: malformed BTF
                    return "void"
                self.busy.add(t.id)
                text = self.record(t, indent)
                self.busy.discard(t.id)
                return text
            return ("struct " if k == STRUCT else "union ") + self.name(t.id)
        if k == TYPEDEF:
            return self.name(t.id)
        if k in (ENUM, ENUM64):
            if not t.name:
                return self.enum(t, indent)
            return "enum " + self.name(t.id)
        if k == FWD:
            return ("union " if t.kind_flag else "struct ") + self.name(t.id)
        if k == bt.UNKN:
            return "void"
        return t.name   # INT, FLOAT

    def record(self, t, indent):
        lay = self.layout(t.id)
        kw = "struct" if t.kind == STRUCT else "union"
        head = f"{kw} {self.name(t.id)} {{" if t.name else f"{kw} {{"
        if not lay.items:
            return head + "}" + (" __attribute__((packed))" if lay.packed else "")
        tabs = "\t" * (indent + 1)
        lines = [head]
        add = lines.append
        for m, bits in lay.items:
            if m is None:
                start, n = bits
                end = start + n
                while start < end:
                    chunk = min(end - start, 64 - start % 64)
                    for w, tname in _PAD_TYPES:
                        if start // w == (start + chunk - 1) // w:
                            break
                    add(f"{tabs}{tname}: {chunk};")
                    start += chunk
            elif bits:
                add(f"{tabs}{self.decl(m.type, m.name, indent + 1)}: {bits};")
            else:
                add(f"{tabs}{self.decl(m.type, m.name, indent + 1)};")
        add("\t" * indent + ("} __attribute__((packed))" if lay.packed else "}"))
        return "\n".join(lines)

    def enum(self, t, indent):
        head = f"enum {self.name(t.id)} {{" if t.name else "enum {"
        tabs = "\t" * (indent + 1)
        lines = [head]
        is64 = t.kind == ENUM64 or t.size == 8
        for v in t.members:
            val = v.value
            if is64:
                if val == -(1 << 63):
                    lit = "(-9223372036854775807LL - 1)"
                else:
                    lit = f"{val}LL" if val < 0 else f"{val}ULL"
            else:
                lit = str(val)
            lines.append(f"{tabs}{self.enumerator(v.name)} = {lit},")
        mode = _ENUM_MODE.get(t.size)
        tail = "}" + (f" __attribute__((mode({mode})))" if mode else "")
        lines.append("\t" * indent + tail)
        return "\n".join(lines)

    # --- driver --------------------------------------------------------------

    def _emit_all(self):
        T = self.T
        referenced = bytearray(len(T))
        for t in T:
            if t.kind in (STRUCT, UNION, FUNC_PROTO):
                for m in t.members:
                    referenced[m.type] = 1
            if t.ref:
                referenced[t.ref] = 1
        for t in T:
            k = t.kind
            if k == STRUCT or k == UNION:
                if t.name:
                    self.define(t.id)
            elif k == TYPEDEF:
                self.define_typedef(t.id, True)
            elif k == ENUM or k == ENUM64:
                if t.name:
                    self.define(t.id)
                elif not referenced[t.id]:
                    # Anonymous enums nobody uses exist for their constants.
                    self.out.append(self.enum(t, 0) + ";\n\n")
            elif k == FWD and t.name:
                self.declare(t.id)
            elif k in _ORDERED_KINDS:
                # bpftool visits these too, which pulls in what they use by value
                # (a `const struct x` defines struct x here); same order, same ___N names.
                self.value_deps(t.id, 0)

    def _emit_some(self, ids):
        """Definitions of the types ``ids`` (and what they hold by value), in
        id order as the whole header has them."""
        T = self.T
        for tid in sorted(ids):
            t = T[tid]
            k = t.kind
            if k == STRUCT or k == UNION or ((k == ENUM or k == ENUM64) and t.name):
                self.define(tid)
            elif k == TYPEDEF:
                self.define_typedef(tid, True)
            elif k == ENUM or k == ENUM64:
                self.out.append(self.enum(t, 0) + ";\n\n")   # anonymous: for its constants
            elif k == FWD:
                self.declare(tid)

    def generate(self, ids=None):
        """The header: every named type, or only ``ids`` and their by-value closure."""
        self.out.append(_PROLOGUE)
        if self.type_tags:
            self.out.append(_TAG_PROLOGUE)
        self.out.append("\n")
        old = sys.getrecursionlimit()
        sys.setrecursionlimit(max(old, 20000))     # by-value nesting recurses
        try:
            with bt.gc_paused():
                if ids is None:
                    self._emit_all()
                else:
                    self._emit_some(ids)
        finally:
            sys.setrecursionlimit(old)
        self.out.append(_EPILOGUE)
        return "".join(self.out)


def generate(btf, type_tags=True):
    """C header text declaring all named types of ``btf`` (a BTF object)."""
    return CGenerator(btf, type_tags).generate()


def _generator_id():
    """Hash of the code that produces the header: a changed generator (or BTF
    parser) gets fresh cache entries without anyone remembering to bump a version."""
    h = hashlib.sha256()
    for path in (__file__, bt.__file__):
        with open(path, "rb") as f:
            h.update(f.read())
    return h.digest()


_memo = {}          # cache directories known to hold a header
_gen_id = None

_KERNEL_BTF = "/sys/kernel/btf/vmlinux"


def _header_dir(data, cache_dir=None):
    global _gen_id
    if _gen_id is None:
        _gen_id = _generator_id()
    h = hashlib.sha256(_gen_id)
    h.update(data)      # not _gen_id + data: a copy of ~5 MB
    digest = h.hexdigest()
    return os.path.join(cache_dir or os.path.join(cache.root(), "vmlinux"), digest)


def header_dir(btf_path=_KERNEL_BTF, cache_dir=None):
    """The directory vmlinux_header() would return for ``btf_path``, without
    generating the header: a name for that BTF (and this generator)."""
    return _header_dir(bt.read_sysfs(btf_path), cache_dir)     # a mapping: no copy to hash


def vmlinux_header(btf_path=_KERNEL_BTF, cache_dir=None):
    """Directory holding a vmlinux.h generated from the BTF file ``btf_path``.

    The header is generated once per BTF content (sha256) and kept under
    ``<cache root>/vmlinux/<hash>/``; a cached header costs reading and hashing
    the file, not parsing it. The cache root is pybcc.cache's."""
    with open(btf_path, "rb") as f:
        data = f.read()
    d = _header_dir(data, cache_dir)
    root, digest = os.path.split(d)
    if _memo.get(d):
        return d
    if os.path.isfile(os.path.join(d, "vmlinux.h")):
        cache.check_private(root)
        cache.check_private(d)
    if cache.entry_ok(os.path.join(d, "vmlinux.h")):
        _memo[d] = True
        return d
    if cache_dir is None:
        cache.private_dir("vmlinux", digest)
    else:
        cache.private_dir(digest, base=cache_dir)
    with bt.gc_paused():
        # The running kernel's BTF is usually wanted again in this process
        # (CO-RE, attach targets): parse it once.
        btf = bt.BTF.kernel() if btf_path == _KERNEL_BTF else bt.BTF.parse(data)
        text = generate(btf)
    # Readers never see a partial header.
    cache.write_entry(os.path.join(d, "vmlinux.h"), text.encode(), mode=0o644)
    _memo[d] = True
    return d


if __name__ == "__main__":
    # python -m pybcc.btf.cgen [BTF_FILE] > vmlinux.h
    sys.stdout.write(generate(bt.BTF.load(sys.argv[1] if len(sys.argv) > 1 else "/sys/kernel/btf/vmlinux")))
