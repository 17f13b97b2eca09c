"""Event records decoded from the BPF object's own BTF.

A tool declares its event struct once, in its .bpf.c. The reader finds that
struct in the object's BTF and decodes every record with one precompiled
``struct.Struct`` laid out from the BTF offsets, so a field added, resized
or moved in C is followed without a hand-written mirror in Python.

Field values: integers and enums → int, ``bool`` → bool, ``char[]`` → bytes
up to the first NUL (the tools print bytes; JSON output decodes them),
other byte arrays → bytes, other arrays → tuple. A struct that holds
bitfields, unions or nested structs is decoded through the maps' ctypes
codec instead (slower, same values).
"""
import operator
import struct

from ..btf import types as bt
from ..errors import BPFError
from ..maps import codec as _codec

_INT_CODES = {(1, False): "B", (2, False): "H", (4, False): "I", (8, False): "Q",
              (1, True): "b", (2, True): "h", (4, True): "i", (8, True): "q"}
_FLOAT_CODES = {4: "f", 8: "d"}


class RecordError(BPFError):
    """The object's BTF has no usable struct of that name."""


class RecordType:
    """One struct of an object's BTF as a record decoder.

    ``decode(data)`` → a Record (a tuple with attribute access and _asdict()).
    ``tail``: the last member, a variable-length array the BPF side sends
    only in part (opensnoop's directory names): records are decoded up to
    it, ``size`` is its offset and ``data[size:]`` is what was sent of it.
    Without ``tail``, ``size`` is the struct's size.
    """

    def __init__(self, btf, name, tail=None):
        if btf is None:
            raise RecordError(f"struct {name}: the object has no BTF")
        try:
            t = btf.find(name, bt.STRUCT)
        except KeyError:
            raise RecordError(
                f"struct {name} is not in the object's BTF (declare it with "
                f"PYBCC_RECORD({name}) in the .bpf.c)") from None
        self.name = name
        members = list(t.members)
        if tail is not None:
            if not members or members[-1].name != tail:
                raise RecordError(f"struct {name}: {tail} is not its last member")
            members.pop()
        # the tail's offset: the fixed part may end in padding before it
        self.size = t.members[-1].bit_offset // 8 if tail is not None else t.size
        self.fields = [m.name for m in members]
        self._cls = _codec.record_class(name, self.fields)
        layout = self._flat_layout(btf, members, self.size)
        self._trims = None   # char[] positions, when each member is one value
        if layout is None and tail is None:   # bitfields, unions, nested structs
            codec = _codec.btf_codec(btf, t.id, chars="bytes")
            self.decode = lambda data: codec.decode(bytes(data[:self.size]))
            return
        if layout is None:
            raise RecordError(f"struct {name}: members before {tail} need a plain layout")
        fmt, fixups, trims = layout
        self._trims = trims
        self._struct = struct.Struct(btf.endian + fmt)   # "<" or ">": no native alignment
        unpack, cls, new = self._struct.unpack_from, self._cls, tuple.__new__
        if not fixups:
            self.decode = lambda data: new(cls, unpack(data))
        elif trims is not None:
            # only char[] members to cut at their NUL: fixed in place, which
            # is twice as fast as a getter per member (streaming tools)
            def decode(data):
                raw = list(unpack(data))
                for i in trims:
                    raw[i] = raw[i].partition(b"\0")[0]
                return new(cls, raw)
            self.decode = decode
        else:
            def decode(data):
                raw = unpack(data)
                return new(cls, [get(raw) for get in fixups])
            self.decode = decode

    def values_getter(self, names):
        """A function data → the values of fields ``names`` (a tuple), as
        ``decode`` gives them but without building the Record, which costs
        as much as unpacking: for a streaming tool's per-event path that
        only formats a line."""
        if self._trims is None:    # members that decode through getters
            def from_record(data):
                rec = self.decode(data)
                return tuple([getattr(rec, n) for n in names])
            return from_record
        positions = [self.fields.index(n) for n in names]
        pick = operator.itemgetter(*positions)
        if len(positions) == 1:
            pick = lambda raw, one=pick: (one(raw),)   # noqa: E731
        trims = [i for i in self._trims if i in positions]
        unpack = self._struct.unpack_from

        def values(data):
            raw = list(unpack(data))
            for i in trims:
                raw[i] = raw[i].partition(b"\0")[0]
            return pick(raw)
        return values

    @staticmethod
    def _flat_layout(btf, members, size):
        """(struct format, per-member getters over the unpacked values, the
        positions of char[] values) when every member is an int, enum,
        pointer, float or array of those; else None. No getters when each
        member unpacks to exactly one plain value; positions None when some
        member other than a char[] needs its getter."""
        fmt, getters, pos, idx, plain, trims = [], [], 0, 0, True, []
        for m in members:
            off = m.bit_offset // 8
            if m.bitfield_size or m.bit_offset % 8 or off < pos:
                return None
            if off > pos:
                fmt.append(f"{off - pos}x")
            mt = btf.strip(m.type)
            code, count, getter = _member_code(btf, mt, idx)
            if code is None:
                return None
            plain = plain and getter is None
            if getter is not None and trims is not None:
                # a getter on an "Ns" code is a char[]'s NUL trim
                trims = trims + [idx] if code.endswith("s") else None
            fmt.append(code)
            getters.append(getter or operator.itemgetter(idx))
            idx += count
            pos = off + btf.size_of(mt)
        if size > pos:
            fmt.append(f"{size - pos}x")
        return "".join(fmt), ([] if plain else getters), trims


def _member_code(btf, mt, idx):
    """(struct code, values it unpacks to, getter or None when plain) for a
    member stripped to its type whose first value is at ``idx``."""
    k = mt.kind
    if k == bt.INT:
        if mt.encoding & bt.INT_BOOL and mt.size == 1:
            return "?", 1, None
        return _INT_CODES.get((mt.size, bool(mt.encoding & bt.INT_SIGNED))), 1, None
    if k in (bt.ENUM, bt.ENUM64):
        return _INT_CODES.get((mt.size, mt.kind_flag)), 1, None
    if k == bt.PTR:
        return "Q", 1, None
    if k == bt.FLOAT:
        return _FLOAT_CODES.get(mt.size), 1, None
    if k != bt.ARRAY or mt.nelems == 0:
        return None, 0, None
    elem, n = btf.strip(mt.ref), mt.nelems
    if elem.kind == bt.INT and elem.size == 1 and not elem.encoding & bt.INT_BOOL:
        if elem.encoding & bt.INT_CHAR or elem.name in ("char", "signed char"):
            return f"{n}s", 1, lambda raw: raw[idx].partition(b"\0")[0]
        return f"{n}s", 1, None
    code, _, sub = _member_code(btf, elem, 0)
    if code is None or sub is not None:
        return None, 0, None
    return f"{n}{code}", n, lambda raw: raw[idx:idx + n]


def record_type(btf, name, tail=None):
    """The RecordType of ``struct name`` in ``btf`` (an object's BTF)."""
    return RecordType(btf, name, tail)
