"""BTF: parse and write the BPF Type Format.

One ``Type`` object per BTF type, ids as in the blob (0 is void). Split BTF
(module or program BTF on top of vmlinux) is supported through ``base``.
The format is described in the kernel's Documentation/bpf/btf.rst.
"""
from __future__ import annotations

import gc
import struct
import sys

from ..errors import FormatError
from ..record import field, record

MAGIC = 0xEB9F
HEADER = struct.Struct("<HBBIIIII")

# Kinds.
UNKN, INT, PTR, ARRAY, STRUCT, UNION, ENUM, FWD, TYPEDEF, VOLATILE, CONST, RESTRICT, \
    FUNC, FUNC_PROTO, VAR, DATASEC, FLOAT, DECL_TAG, TYPE_TAG, ENUM64 = range(20)
KIND_NAMES = ["UNKN", "INT", "PTR", "ARRAY", "STRUCT", "UNION", "ENUM", "FWD", "TYPEDEF",
              "VOLATILE", "CONST", "RESTRICT", "FUNC", "FUNC_PROTO", "VAR", "DATASEC",
              "FLOAT", "DECL_TAG", "TYPE_TAG", "ENUM64"]
MODIFIERS = (TYPEDEF, VOLATILE, CONST, RESTRICT, TYPE_TAG)
# Deeper type chains are loops in a corrupt blob (the kernel's own limit is 32).
MAX_DEPTH = 64

# INT encoding bits.
INT_SIGNED, INT_CHAR, INT_BOOL = 1, 2, 4


@record
class Member:
    name: str
    type: int
    bit_offset: int
    bitfield_size: int = 0   # 0 unless a bitfield


@record
class EnumValue:
    name: str
    value: int


@record
class Param:
    name: str
    type: int


@record
class VarSecinfo:
    type: int
    offset: int
    size: int


@record
class Type:
    id: int
    kind: int
    name: str = ""
    size: int = 0            # INT/STRUCT/UNION/ENUM/FLOAT/DATASEC
    ref: int = 0             # PTR/TYPEDEF/modifiers/FUNC/VAR/DECL_TAG: referenced type
    kind_flag: bool = False
    # INT
    encoding: int = 0
    bits: int = 0
    int_offset: int = 0
    # ARRAY
    index_type: int = 0
    nelems: int = 0
    # STRUCT/UNION members, ENUM values, FUNC_PROTO params, DATASEC vars
    members: list = field(default_factory=list)
    # FUNC and VAR linkage, DECL_TAG component index
    linkage: int = 0

    @property
    def kind_name(self):
        return KIND_NAMES[self.kind]

    @property
    def signed(self):
        if self.kind == INT:
            return bool(self.encoding & INT_SIGNED)
        if self.kind in (ENUM, ENUM64):
            return self.kind_flag
        return False

    def __repr__(self):
        return f"<BTF {self.kind_name} #{self.id} {self.name!r}>"


VOID = Type(0, UNKN, "void")


class BTF:
    """A parsed BTF blob. ``types[id]`` is the Type with that id."""

    def __init__(self, types, base=None, endian="<"):
        self.base = base
        self.endian = endian
        self._own = types             # types of this blob, ids start at start_id
        self.start_id = len(base) if base else 1
        self._by_name = None

    # --- reading -------------------------------------------------------------

    @classmethod
    def parse(cls, data, base=None, lazy=False):
        """``lazy``: index the types now (offsets, names), decode each one the
        first time it is asked for (the kernel's BTF, read by CO-RE)."""
        # ~130k objects at once: the cyclic GC would rescan them over and over.
        with gc_paused():
            try:
                return cls._parse(data, base, lazy)
            except FormatError:
                raise
            except (struct.error, ValueError, IndexError, UnicodeDecodeError) as e:
                # A truncated or corrupt blob: offsets past its end, bad names.
                raise FormatError(f"malformed BTF: {e}") from None

    @classmethod
    def _parse(cls, data, base=None, lazy=False):
        if lazy and isinstance(data, (bytearray, memoryview)):
            data = bytes(data)      # a view of it is kept: it must not change
        data = memoryview(data)
        magic = struct.unpack_from("<H", data)[0]
        endian = "<" if magic == MAGIC else ">"
        if magic != MAGIC and struct.unpack_from(">H", data)[0] != MAGIC:
            raise FormatError("not BTF data (bad magic)")
        _, _, _, hdr_len, type_off, type_len, str_off, str_len = struct.unpack_from(endian + "HBBIIIII", data)
        types_raw = data[hdr_len + type_off:hdr_len + type_off + type_len]
        strings = bytes(data[hdr_len + str_off:hdr_len + str_off + str_len])
        if strings[-1:] != b"\0" or (not base and strings[:1] != b"\0"):
            raise FormatError("BTF string section must start and end with a NUL byte")
        base_strings = base._strings if base else b""
        strs = base_strings + strings if base else strings
        start_id = len(base) if base else 1
        # lazily: a view of the caller's bytes, not a copy (it stays alive
        # with the BTF); eagerly: decoded at once, so a view is enough
        decoder = _Decoder(types_raw, strs, endian, start_id)
        types = _LazyTypes(decoder) if lazy else decoder.decode_all()
        btf = cls(types, base, endian)
        btf._strings = strs
        btf._own_strings = strings if not base else b""
        return btf

    @classmethod
    def load(cls, path, base=None):
        with open(path, "rb") as f:
            return cls.parse(f.read(), base)

    @classmethod
    def kernel(cls):
        """The running kernel's BTF, parsed once per process."""
        global _kernel_btf
        if _kernel_btf is None:
            # Lazily: a CO-RE resolution reads a few hundred of its ~130k types.
            _kernel_btf = cls.parse(read_sysfs("/sys/kernel/btf/vmlinux"), lazy=True)
        return _kernel_btf

    # --- queries -------------------------------------------------------------

    def __len__(self):
        return self.start_id + len(self._own)

    def __getitem__(self, type_id):
        if type_id == 0:
            return VOID
        if type_id < self.start_id:
            return self.base[type_id]
        try:
            return self._own[type_id - self.start_id]
        except IndexError:
            raise FormatError(f"BTF type id {type_id} does not exist (the last is {len(self) - 1})") from None

    def __iter__(self):
        """All types of this blob and its base, void excluded."""
        if self.base:
            yield from self.base
        yield from self._own

    @property
    def own_types(self):
        return self._own

    def own_ids_named(self, name):
        """Ids of this blob's own types called ``name`` (not its base's)."""
        if isinstance(self._own, _LazyTypes):
            return self._own.ids_named(name)
        return [t.id for t in self._own if t.name == name]

    def own_names(self, kinds):
        """{name: [ids]} of this blob's own named types of ``kinds``, without
        decoding them when lazy (the names of a kernel's records and typedefs)."""
        if isinstance(self._own, _LazyTypes):
            return self._own.names_of_kinds(kinds)
        out = {}
        for t in self._own:
            if t.name and t.kind in kinds:
                out.setdefault(t.name, []).append(t.id)
        return out

    def own_enumerators(self):
        """{enumerator name: [ids of the enums declaring it]} of this blob's own enums."""
        if isinstance(self._own, _LazyTypes):
            return self._own.enumerators()
        out = {}
        for t in self._own:
            if t.kind in (ENUM, ENUM64):
                for v in t.members:
                    out.setdefault(v.name, []).append(t.id)
        return out

    def own_ids_by_essential_name(self, essential, essential_name):
        """Ids of this blob's own types whose essential_name() is
        ``essential`` (CO-RE candidates); without decoding them when lazy."""
        if isinstance(self._own, _LazyTypes):
            return self._own.ids_flavoured(essential, essential_name)
        idx = getattr(self, "_essential_index", None)
        if idx is None:
            idx = {}
            with gc_paused():
                for t in self._own:
                    if t.name:
                        idx.setdefault(essential_name(t.name), []).append(t.id)
            self._essential_index = idx
        return idx.get(essential, ())

    def _index(self):
        if self._by_name is None:
            idx = {}
            with gc_paused():
                for t in self:
                    if t.name:
                        idx.setdefault(t.name, []).append(t)
            self._by_name = idx
        return self._by_name

    def find_all(self, name, kind=None):
        if isinstance(self._own, _LazyTypes) and not self.base:
            found = [self[i] for i in self._own.ids_named(name)]
        else:
            found = self._index().get(name, [])
        return [t for t in found if kind is None or t.kind == kind or
                (isinstance(kind, tuple) and t.kind in kind)]

    def find(self, name, kind=None):
        """The first type called ``name`` (of ``kind``); KeyError if none."""
        found = self.find_all(name, kind)
        if not found:
            what = f"{KIND_NAMES[kind].lower()} {name}" if isinstance(kind, int) else name
            raise KeyError(f"no BTF type {what}")
        return found[0]

    def strip(self, t, keep_typedef=False):
        """Follow typedefs and modifiers (const, volatile, ...) to the real type."""
        if isinstance(t, int):
            t = self[t]
        steps = 0
        while t.kind in MODIFIERS and not (keep_typedef and t.kind == TYPEDEF):
            t = self[t.ref]
            steps += 1
            if steps > MAX_DEPTH:
                raise FormatError(f"BTF type loop through {t}")
        return t

    def size_of(self, t):
        t = self.strip(t)
        if t.kind in (INT, STRUCT, UNION, ENUM, ENUM64, FLOAT, DATASEC):
            return t.size
        if t.kind == PTR:
            return 8
        if t.kind == ARRAY:
            return t.nelems * self.size_of(t.ref)
        if t.kind == VAR:
            return self.size_of(t.ref)
        raise ValueError(f"{t} has no size")

    def align_of(self, t):
        t = self.strip(t)
        if t.kind in (INT, ENUM, ENUM64, FLOAT):
            return min(t.size, 16) or 1   # __int128 is 16-aligned (x86-64 and -target bpf)
        if t.kind == PTR:
            return 8
        if t.kind == ARRAY:
            return self.align_of(t.ref)
        if t.kind in (STRUCT, UNION):
            return max((self.align_of(m.type) for m in t.members), default=1)
        return 1

    def type_name(self, t, _depth=0):
        """A C spelling of a type, e.g. 'struct task_struct *'."""
        if isinstance(t, int):
            t = self[t]
        if _depth > MAX_DEPTH:
            raise FormatError(f"BTF type loop through {t}")
        _depth += 1
        if t.kind == UNKN:
            return "void"
        if t.kind == PTR:
            return self.type_name(t.ref, _depth) + " *"
        if t.kind in (CONST, VOLATILE, RESTRICT):
            return f"{KIND_NAMES[t.kind].lower()} {self.type_name(t.ref, _depth)}"
        if t.kind == TYPE_TAG:
            return self.type_name(t.ref, _depth)
        if t.kind == ARRAY:
            return f"{self.type_name(t.ref, _depth)}[{t.nelems}]"
        if t.kind in (STRUCT, UNION, ENUM, ENUM64, FWD):
            tag = {STRUCT: "struct", UNION: "union", FWD: "union" if t.kind_flag else "struct"}.get(t.kind, "enum")
            return f"{tag} {t.name}" if t.name else f"{tag} <anon>"
        if t.kind == FUNC_PROTO:
            return f"{self.type_name(t.ref, _depth)} (*)({', '.join(self.type_name(p.type, _depth) for p in t.members)})"
        return t.name

    # --- writing -------------------------------------------------------------

    def to_bytes(self):
        """Encode this blob's own types (not the base) as BTF."""
        e = self.endian
        # Keep the original string table so that string offsets held elsewhere
        # (.BTF.ext line info) stay valid; new names are appended.
        strings = bytearray(getattr(self, "_own_strings", b"\0") or b"\0")
        offsets = _string_offsets(strings)

        def s(name):
            off = offsets.get(name)
            if off is None:
                off = offsets[name] = len(strings)
                strings.extend(name.encode() + b"\0")
            return off

        out = bytearray()
        for t in self._own:
            vlen = len(t.members)
            if t.kind == FUNC:
                vlen = t.linkage
            info = (t.kind << 24) | vlen | (int(t.kind_flag) << 31)
            sz = t.size if t.kind in (INT, STRUCT, UNION, ENUM, FLOAT, DATASEC, ENUM64) else t.ref
            if t.kind == ARRAY:
                sz = 0
            out += struct.pack(e + "III", s(t.name), info, sz)
            if t.kind == INT:
                out += struct.pack(e + "I", (t.encoding << 24) | (t.int_offset << 16) | t.bits)
            elif t.kind == ARRAY:
                out += struct.pack(e + "III", t.ref, t.index_type, t.nelems)
            elif t.kind in (STRUCT, UNION):
                for m in t.members:
                    off = (m.bitfield_size << 24 | m.bit_offset) if t.kind_flag else m.bit_offset
                    out += struct.pack(e + "III", s(m.name), m.type, off)
            elif t.kind == ENUM:
                for m in t.members:
                    out += struct.pack(e + "II", s(m.name), m.value & 0xFFFFFFFF)
            elif t.kind == ENUM64:
                for m in t.members:
                    v = m.value & 0xFFFFFFFFFFFFFFFF
                    out += struct.pack(e + "III", s(m.name), v & 0xFFFFFFFF, v >> 32)
            elif t.kind == FUNC_PROTO:
                for m in t.members:
                    out += struct.pack(e + "II", s(m.name), m.type)
            elif t.kind == VAR:
                out += struct.pack(e + "I", t.linkage)
            elif t.kind == DATASEC:
                for m in t.members:
                    out += struct.pack(e + "III", m.type, m.offset, m.size)
            elif t.kind == DECL_TAG:
                out += struct.pack(e + "i", t.linkage)
        hdr = struct.pack(e + "HBBIIIII", MAGIC, 1, 0, HEADER.size, 0, len(out), len(out), len(strings))
        return hdr + bytes(out) + bytes(strings)

    def add(self, t):
        """Append a type to this blob; returns its new id."""
        t.id = len(self)
        self._own.append(t)
        self._by_name = None
        return t.id


class gc_paused:
    """No garbage collection inside: parsing and generating make ~10^6 objects
    and no cycles worth collecting; the collector's full passes over them
    would double the run time. (A class, not a contextmanager generator:
    contextlib costs each tool's start ~0.7 ms of imports.)"""

    def __enter__(self):
        self.enabled = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc):
        if self.enabled:
            gc.enable()


def _string_offsets(table):
    """{string: offset of its first copy} of a NUL-terminated string table."""
    if table[-1:] not in (b"", b"\0"):
        raise ValueError("BTF string table does not end with a NUL byte")
    offsets, pos = {}, 0
    for raw in table.split(b"\0")[:-1]:   # split once in C, not index() per string
        offsets.setdefault(raw.decode(errors="replace"), pos)
        pos += len(raw) + 1
    offsets[""] = 0
    return offsets


_kernel_btf: BTF | None = None


def read_sysfs(path):
    """The BTF blob at ``path`` (/sys/kernel/btf/...): a private read-only
    mapping of it where the kernel allows one (6.16+ for vmlinux), which
    copies nothing (a read of vmlinux's ~5.5 MB costs ~4 ms of system
    time), else its bytes."""
    import mmap     # here: a warm start reads no BTF
    with open(path, "rb") as f:
        try:
            return mmap.mmap(f.fileno(), 0, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ)
        except (OSError, ValueError):
            return f.read()


# --- decoding type records -----------------------------------------------------

# Bytes after the 12-byte header of a type record: fixed, and per vlen item.
_EXTRA = {INT: 4, ARRAY: 12, VAR: 4, DECL_TAG: 4}
_PER_ITEM = {STRUCT: 12, UNION: 12, ENUM: 8, FUNC_PROTO: 8, DATASEC: 12, ENUM64: 12}
# The same in 32-bit words, indexed by an info word's top byte (kind and
# kind_flag): a record is _STEP_WORDS[top] + _PER_ITEM_WORDS[top] * vlen
# words long; None for an unknown kind.
_STEP_WORDS = [3 + _EXTRA.get(top & 0x1F, 0) // 4 if top & 0x1F <= ENUM64 else None for top in range(256)]
_PER_ITEM_WORDS = [_PER_ITEM.get(top & 0x1F, 0) // 4 for top in range(256)]
_NATIVE = "<" if sys.byteorder == "little" else ">"
_U32_NATIVE = struct.Struct("=I")
_SMALL_WORDS = 1 << 16       # a type section up to 256 KB: an object's, not a kernel's
_KIND_OF_TOP = bytes(top & 0x1F for top in range(256))


class _Decoder:
    """Type records of one blob: where each starts, what its name is, and the
    Type object for one record (all of them, for an eager parse)."""

    def __init__(self, raw, strs, endian, start_id):
        self.raw, self.strs, self.endian, self.start_id = raw, strs, endian, start_id
        self.u32 = struct.Struct(endian + "I")
        self.u32x2 = struct.Struct(endian + "II")
        self.u32x3 = struct.Struct(endian + "III")
        self.i32 = struct.Struct(endian + "i")

    def name_at(self, off):
        if off == 0:
            return ""
        strs = self.strs
        return strs[off:strs.index(b"\0", off)].decode()

    def scan(self):
        """(where each record starts, in 32-bit words; each record's name
        offset, as bytes in this machine's byte order; each record's info
        word's top byte, its kind and kind_flag): the only per-record Python
        code of a lazy parse, kept to a few operations (~130k records in the
        kernel's BTF)."""
        words = self.words()
        if len(words) > _SMALL_WORDS:
            import array     # a kernel's BTF: 4 bytes an entry, where a list takes ~36
            offsets, names = array.array("I"), array.array("I")
        else:                # an object's (every warm start): not worth importing array
            offsets, names = [], []
        tops = bytearray()      # here, not in a pass of its own: ~10 ms less for the kinds
        add, add_name, add_top = offsets.append, names.append, tops.append
        step, per = _STEP_WORDS, _PER_ITEM_WORDS
        pos, n = 0, len(words)
        try:
            while pos < n:
                add(pos)
                add_name(words[pos])
                info = words[pos + 1]
                top = info >> 24
                add_top(top)
                pos += step[top] + per[top] * (info & 0xFFFF)   # None + int: an unknown kind
        except TypeError:
            raise FormatError(f"BTF type #{self.start_id + len(offsets) - 1} has unknown kind "
                              f"{top & 0x1F}") from None
        except IndexError:
            pos = n + 1     # a record header cut by the end of the section
        if pos != n:
            raise FormatError("BTF type section ends inside a type record")
        column = struct.pack(f"={len(names)}I", *names) if type(names) is list else names.tobytes()
        return offsets, column, tops

    def words(self):
        """The type section as 32-bit words in this machine's byte order
        (a view of it, not a copy, when the byte orders agree)."""
        if len(self.raw) % 4:
            raise FormatError("BTF type section ends inside a type record")
        if self.endian == _NATIVE:
            return memoryview(self.raw).cast("B").cast("I")
        import array
        words = array.array("I", bytes(self.raw))
        words.byteswap()
        return words

    def decode_all(self):
        types, pos, n, tid = [], 0, len(self.raw), self.start_id
        while pos < n:
            t, pos = self.decode(pos, tid)
            types.append(t)
            tid += 1
        return types

    def decode(self, pos, tid):
        """The Type whose record starts at ``pos``, and where the next starts."""
        raw, name_at, u32, u32x3, i32 = self.raw, self.name_at, self.u32, self.u32x3, self.i32
        name_off, info, size_or_type = u32x3.unpack_from(raw, pos)
        pos += 12
        kind = (info >> 24) & 0x1F
        vlen = info & 0xFFFF
        if kind > ENUM64:
            raise FormatError(f"BTF type #{tid} has unknown kind {kind}")
        t = Type(tid, kind, name_at(name_off), kind_flag=bool(info >> 31))
        if kind in (INT, STRUCT, UNION, ENUM, FLOAT, DATASEC, ENUM64):
            t.size = size_or_type
        else:
            t.ref = size_or_type
        if kind == INT:
            v = u32.unpack_from(raw, pos)[0]
            pos += 4
            t.encoding, t.int_offset, t.bits = (v >> 24) & 0xF, (v >> 16) & 0xFF, v & 0xFF
        elif kind == ARRAY:
            t.ref, t.index_type, t.nelems = u32x3.unpack_from(raw, pos)
            pos += 12
        elif kind in (STRUCT, UNION):
            for _ in range(vlen):
                mname, mtype, moff = u32x3.unpack_from(raw, pos)
                pos += 12
                if t.kind_flag:
                    t.members.append(Member(name_at(mname), mtype, moff & 0xFFFFFF, moff >> 24))
                else:
                    t.members.append(Member(name_at(mname), mtype, moff))
        elif kind == ENUM:
            for _ in range(vlen):
                mname = u32.unpack_from(raw, pos)[0]
                val = i32.unpack_from(raw, pos + 4)[0]
                if not t.kind_flag:      # kind_flag marks a signed enum
                    val &= 0xFFFFFFFF
                t.members.append(EnumValue(name_at(mname), val))
                pos += 8
        elif kind == ENUM64:
            for _ in range(vlen):
                mname, lo, hi = u32x3.unpack_from(raw, pos)
                pos += 12
                val = (hi << 32) | lo
                if t.kind_flag and val >> 63:
                    val -= 1 << 64
                t.members.append(EnumValue(name_at(mname), val))
        elif kind == FUNC_PROTO:
            for _ in range(vlen):
                mname, mtype = self.u32x2.unpack_from(raw, pos)
                pos += 8
                t.members.append(Param(name_at(mname), mtype))
        elif kind == VAR:
            t.linkage = u32.unpack_from(raw, pos)[0]
            pos += 4
        elif kind == DATASEC:
            for _ in range(vlen):
                t.members.append(VarSecinfo(*u32x3.unpack_from(raw, pos)))
                pos += 12
        elif kind == DECL_TAG:
            t.linkage = i32.unpack_from(raw, pos)[0]
            pos += 4
        elif kind == FUNC:
            t.linkage = vlen
        return t, pos


class _LazyTypes:
    """The types of a blob as a read-only sequence that decodes a type the
    first time it is read: one pass over the records at parse time (where
    each starts, and its name's offset), no Type objects until asked. A
    name is found in the string table, then the records that carry its
    offset in the column of name offsets (a search in C)."""

    def __init__(self, decoder):
        self._decoder = decoder
        # where each record starts (in words), each one's name offset
        # (bytes, searched by _ids_at), and its info word's top byte
        self._words, self._name_column, self._tops = decoder.scan()
        self._types = [None] * len(self._words)
        self._kinds = None
        self._named, self._flavoured = {}, {}      # name -> ids: _ids_named, ids_flavoured
        self._flavour_offsets = None

    def __len__(self):
        return len(self._words)

    def __getitem__(self, i):
        if i < 0:
            raise IndexError(i)
        t = self._types[i]
        if t is None:
            try:
                t = self._decoder.decode(4 * self._words[i], i + self._decoder.start_id)[0]
            except (struct.error, ValueError, UnicodeDecodeError) as e:
                raise FormatError(f"malformed BTF type #{i + self._decoder.start_id}: {e}") from None
            self._types[i] = t
        return t

    def __iter__(self):
        for i in range(len(self._words)):
            yield self[i]

    def append(self, t):
        raise TypeError("a lazily parsed BTF is read-only")

    @property
    def kinds(self):
        """The kind of each type (bytes, by id - start)."""
        if self._kinds is None:
            self._kinds = bytes(self._tops.translate(_KIND_OF_TOP))
        return self._kinds

    def _ids_of_kinds(self, kinds):
        """Indexes (id - start) of the types of ``kinds``, picked in C."""
        from itertools import compress
        wanted = self.kinds.translate(bytes(k in kinds for k in range(256)))
        return compress(range(len(wanted)), wanted)

    def _ids_at(self, off):
        """Ids of the records whose name is at string offset ``off``."""
        column, needle, start = self._name_column, _U32_NATIVE.pack(off), self._decoder.start_id
        ids, at = [], column.find(needle)
        while at >= 0:
            if at % 4 == 0:
                ids.append(at // 4 + start)
                at = column.find(needle, at + 4)
            else:
                at = column.find(needle, at + 1)
        return ids

    def names_of_kinds(self, kinds):
        """{name: [ids]} of the named types of ``kinds`` (only their names
        are decoded)."""
        names = memoryview(self._name_column).cast("I")
        start, name_at = self._decoder.start_id, self._decoder.name_at
        out = {}
        for i in self._ids_of_kinds(kinds):
            off = names[i]
            if off:
                out.setdefault(name_at(off), []).append(i + start)
        return out

    def enumerators(self):
        """{enumerator name: [enum ids]}, read from the enums' records
        without making Type objects."""
        dec = self._decoder
        words, name_at, start = dec.words(), dec.name_at, dec.start_id
        out, kinds, at = {}, self.kinds, self._words
        for i in self._ids_of_kinds((ENUM, ENUM64)):
            pos = at[i]
            step = 2 if kinds[i] == ENUM else 3     # words per value
            tid = i + start
            for off in words[pos + 3:pos + 3 + step * (words[pos + 1] & 0xFFFF):step]:
                out.setdefault(name_at(off), []).append(tid)
        return out

    def _ids_named(self, name):
        """Ids of the types called ``name``, kept: CO-RE asks for the same few
        names again and again. Each string ``name`` is found in the string
        table, then the records that carry its offset in the name column.
        A name is a whole string of the table: a record whose name is the
        tail of another string ("nt" in "count") is not found so; no BTF
        writer (pahole, libbpf, LLVM) shares tails."""
        ids = self._named.get(name)
        if ids is None:
            strs, needle = self._decoder.strs, b"\0" + name.encode() + b"\0"
            ids, at = [], strs.find(needle)
            while at >= 0:
                ids += self._ids_at(at + 1)
                at = strs.find(needle, at + len(needle) - 1)
            self._named[name] = ids
        return ids

    def _flavours(self, essential_name):
        """{essential name: [offsets of the strings that are its flavours]}:
        the few strings with "___" in them, found in one pass."""
        if self._flavour_offsets is None:
            strs, out = self._decoder.strs, {}
            at = strs.find(b"___")
            while at >= 0:
                start = strs.rfind(b"\0", 0, at) + 1
                end = strs.find(b"\0", at)
                text = strs[start:end].decode(errors="replace")
                essential = essential_name(text)
                if essential != text:
                    out.setdefault(essential, []).append(start)
                at = strs.find(b"___", end)
            self._flavour_offsets = out
        return self._flavour_offsets

    def ids_named(self, name):
        """Ids of the types called exactly ``name``."""
        return list(self._ids_named(name))

    def ids_flavoured(self, essential, essential_name):
        """Ids of the types whose essential_name() is ``essential``: called
        so, or ``essential___flavour``."""
        flavours = self._flavoured.get(essential)
        if flavours is None:
            flavours = self._flavoured[essential] = [
                i for off in self._flavours(essential_name).get(essential, ()) for i in self._ids_at(off)]
        return self._ids_named(essential) + flavours
