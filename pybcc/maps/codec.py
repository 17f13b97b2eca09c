"""Key/value codecs: Python values <-> ctypes objects <-> map bytes.

A BTF type becomes a ctypes class (bcc scripts expect ctypes ``Key``/``Leaf``
classes and ``from_buffer_copy`` decodes fast) plus two converters:
``to_py`` (ctypes → plain Python) and ``to_c`` (Python → something a ctypes
field accepts). Plain Python forms:

- ints (signed/unsigned/bool/pointers) → int (bool for _Bool), floats → float
- enums → ``EnumInt`` (an int that knows its ``.name``)
- ``char[]`` → str up to the first NUL (or bytes with ``chars="bytes"``, as bcc)
- other byte arrays (``unsigned char``/``u8``) → bytes
- other arrays → tuple
- structs/unions → a ``Record``: a tuple subclass with attribute access and
  ``_asdict()``; tuples keep struct keys hashable and sortable. Anonymous
  struct/union members are flattened, as C accesses them.

Structs are laid out with ``_pack_ = 1`` and explicit padding so that every
field sits at its BTF offset whatever ctypes' own rules would do. Bitfields
are properties over a hidden byte storage field, for the same reason.
"""
import ctypes
import operator

from ..errors import FormatError
from ..btf import types as bt

_INTS = {(1, False): ctypes.c_uint8, (2, False): ctypes.c_uint16,
         (4, False): ctypes.c_uint32, (8, False): ctypes.c_uint64,
         (1, True): ctypes.c_int8, (2, True): ctypes.c_int16,
         (4, True): ctypes.c_int32, (8, True): ctypes.c_int64}
_CData = ctypes.c_int.__mro__[-2]     # the common base of all ctypes data types
_FLOATS = {4: ctypes.c_float, 8: ctypes.c_double, 16: ctypes.c_longdouble}


class Record(tuple):
    """A decoded struct/union: a tuple with named fields (see record_class)."""
    __slots__ = ()
    _fields = ()

    def _asdict(self):
        return dict(zip(self._fields, self))

    def __repr__(self):
        inner = ", ".join(f"{n}={v!r}" for n, v in zip(self._fields, self))
        return f"{type(self).__name__}({inner})"

    def __getnewargs__(self):
        return (tuple(self),)


def record_class(name, fields):
    """A Record subclass whose attributes are ``fields`` (any C identifier)."""
    ns = {"__slots__": (), "_fields": tuple(fields)}
    for i, f in enumerate(fields):
        if f and f not in ("_fields", "_asdict"):
            ns[f] = property(operator.itemgetter(i))
    return type(name or "anon", (Record,), ns)


class EnumInt(int):
    """An enum value: compares and computes as int, and knows its name."""
    __slots__ = ()
    _names = {}

    @property
    def name(self):
        return self._names.get(int(self))

    def __repr__(self):
        n = self.name
        return f"{type(self).__name__}.{n}" if n else f"{type(self).__name__}({int(self)})"

    __str__ = int.__repr__


def to_dict(value):
    """Recursively turn Records (and sequences of them) into dicts/lists."""
    if isinstance(value, Record):
        return {k: to_dict(v) for k, v in zip(value._fields, value)}
    if isinstance(value, (list, tuple)):
        return [to_dict(v) for v in value]
    return value


def _scalar(v):
    # Accept ctypes scalars (c_uint(5)) wherever an int/float is expected.
    return v.value if isinstance(v, ctypes._SimpleCData) else v


def _bytes_like(v):
    return isinstance(v, (bytes, bytearray, memoryview))


class _Node:
    """One converted type: its ctypes class and converters (see module doc)."""
    __slots__ = ("ctype", "to_py", "to_c", "setters")

    def __init__(self, ctype, to_py, to_c, setters=None):
        self.ctype, self.to_py, self.to_c = ctype, to_py, to_c
        self.setters = setters  # struct/union: public (flattened) name -> to_c


def _identity(v):
    return v


class _Builder:
    """Builds _Nodes for the types of one BTF, memoised by type id."""

    def __init__(self, btf, chars):
        self.btf, self.chars = btf, chars
        self.nodes = {}

    def node(self, type_id):
        n = self.nodes.get(type_id)
        if n is None:
            n = self.nodes[type_id] = self._build(self.btf.strip(type_id))
        return n

    def _build(self, t):
        k = t.kind
        if k == bt.VAR:
            return self.node(t.ref)
        if k == bt.INT:
            if self.chars == "bytes" and t.name == "char" and t.size == 1:
                # bcc: a lone char is ctypes.c_char, one byte of bytes
                return _Node(ctypes.c_char, _identity, _scalar)
            return self._int(t.size, t.signed, t.encoding & bt.INT_BOOL)
        if k == bt.PTR:
            return self._int(8, False, False)
        if k in (bt.ENUM, bt.ENUM64):
            return self._enum(t)
        if k == bt.FLOAT:
            ct = _FLOATS.get(t.size)
            if ct is None:
                raise NotImplementedError(f"float of size {t.size}")
            return _Node(ct, _identity, lambda v: float(_scalar(v)))
        if k == bt.ARRAY:
            return self._array(t)
        if k in (bt.STRUCT, bt.UNION, bt.DATASEC):
            return self._struct(t)
        raise NotImplementedError(f"no codec for {self.btf.type_name(t)}")

    def _int(self, size, signed, is_bool):
        if is_bool and size == 1:
            return _Node(ctypes.c_bool, _identity, lambda v: bool(_scalar(v)))
        ct = _INTS.get((size, bool(signed)))
        if ct is not None:
            return _Node(ct, _identity, lambda v: int(_scalar(v)))
        # __int128 as two 64-bit halves (bcc's ctypes for it); odd sizes as
        # little-endian bytes.
        if size == 16:
            ct = (ctypes.c_int64 if signed else ctypes.c_uint64) * 2
        else:
            ct = ctypes.c_ubyte * size

        def to_py(v):
            return int.from_bytes(bytes(v), "little", signed=bool(signed))

        def to_c(v):
            v = int(_scalar(v)) & ((1 << (8 * size)) - 1)
            return ct.from_buffer_copy(v.to_bytes(size, "little"))
        return _Node(ct, to_py, to_c)

    def _enum(self, t):
        base = self._int(t.size, t.signed, False)
        names = {}
        values = {}
        for m in t.members:
            names.setdefault(m.value, m.name)
            values[m.name] = m.value
        if not t.signed:     # BTF stores unsigned enums' values as seen in C
            names = {v & ((1 << (8 * t.size)) - 1): n for v, n in names.items()}
        cls = type(t.name or "enum", (EnumInt,), {"__slots__": (), "_names": names})
        base_to_c = base.to_c

        def to_c(v):
            if isinstance(v, str):
                try:
                    v = values[v]
                except KeyError:
                    raise ValueError(f"enum {t.name} has no value {v!r}") from None
            return base_to_c(v)
        return _Node(base.ctype, cls, to_c)

    def _is_char(self, t):
        t = self.btf.strip(t)
        return t.kind == bt.INT and t.size == 1 and (
            t.encoding & bt.INT_CHAR or t.name in ("char", "signed char"))

    def _array(self, t):
        n = t.nelems
        elem_t = self.btf.strip(t.ref)
        if self._is_char(elem_t):
            ct = ctypes.c_char * n
            return _Node(ct, _char_to_py(self.chars), _bytes_to_c(ct, n, str_ok=True))
        if elem_t.kind == bt.INT and elem_t.size == 1 and not elem_t.encoding & bt.INT_BOOL:
            ct = ctypes.c_ubyte * n
            return _Node(ct, bytes, _bytes_to_c(ct, n, str_ok=False))
        elem = self.node(t.ref)
        ct = elem.ctype * n
        e_py, e_c = elem.to_py, elem.to_c

        if e_py is _identity:
            def to_py(v):
                return tuple(v)
        else:
            def to_py(v):
                return tuple(map(e_py, v))

        def to_c(v):
            if isinstance(v, ct):
                return v
            if _bytes_like(v):
                return ct.from_buffer_copy(bytes(v).ljust(ctypes.sizeof(ct), b"\0"))
            v = list(v)
            if len(v) > n:
                raise ValueError(f"{len(v)} values for an array of {n}")
            out = ct()
            for i, x in enumerate(v):
                out[i] = e_c(x)
            return out
        return _Node(ct, to_py, to_c)

    def _members(self, t):
        """(name, type_id, bit_offset, bitfield_size) for each member."""
        if t.kind == bt.DATASEC:
            for vs in t.members:
                var = self.btf[vs.type]
                yield var.name, var.ref, vs.offset * 8, 0
            return
        for m in t.members:
            size = m.bitfield_size
            off = m.bit_offset
            if not t.kind_flag:      # old-style bitfield: size lives in the INT type
                mt = self.btf.strip(m.type)
                if mt.kind == bt.INT and (mt.bits != mt.size * 8 or mt.int_offset):
                    size, off = mt.bits, off + mt.int_offset
            yield m.name, m.type, off, size

    def _struct(self, t):
        is_union = t.kind == bt.UNION
        fields = []          # ctypes _fields_
        props = {}           # class attributes: bitfield and anon-forwarding properties
        bit_units = {}       # storage field name -> [(bitfield name, ctype, bits)], for layouts
        conv = []            # (attribute name, node or None for bitfields, is_anon)
        names = []           # public flattened names
        setters = {}         # public name -> to_c
        cur = 0              # next free byte (structs)
        storage = None       # [field name, start byte, end byte] of the open bitfield unit
        n_hidden = [0]

        def hidden(prefix):
            n_hidden[0] += 1
            return f"_{prefix}{n_hidden[0]}"

        members = list(self._members(t))
        if not is_union:
            members.sort(key=lambda m: m[2])
        size = t.size or max((o // 8 + self.btf.size_of(ty) for _, ty, o, _ in members), default=0)
        pending_bits = []    # bitfields waiting for their storage unit to close

        def close_storage():
            nonlocal storage, cur
            if storage is None:
                return
            name, start, end = storage
            fields.append((name, ctypes.c_ubyte * (end - start)))
            bit_units[name] = [(b, self.node(bt_).ctype, bs) for b, bt_, _, bs in pending_bits]
            for bname, btype, boff, bsize in pending_bits:
                props[bname] = _bitfield(name, end - start, boff - start * 8, bsize,
                                         self.btf.strip(btype).signed)
                node = self.node(btype)
                conv.append((bname, node if node.to_py is not _identity else None, False))
                names.append(bname)
                setters[bname] = node.to_c
            pending_bits.clear()
            cur = end
            storage = None

        for mname, mtype, off, bsize in members:
            if bsize:
                start, end = off // 8, (off + bsize + 7) // 8
                if storage is not None and (is_union or start >= storage[2]):
                    close_storage()
                if storage is None:
                    start = start if not is_union else 0
                    if not is_union and start > cur:
                        fields.append((hidden("pad"), ctypes.c_ubyte * (start - cur)))
                    storage = [hidden("bits"), start, end]
                storage[2] = max(storage[2], end)
                pending_bits.append((mname, mtype, off, bsize))
                continue
            close_storage()
            if off % 8:
                raise NotImplementedError(f"member {mname} of {t.name} is not byte aligned")
            node = self.node(mtype)
            if not is_union:
                byte = off // 8
                if byte < cur:
                    raise NotImplementedError(f"overlapping member {mname} in {t.name}")
                if byte > cur:
                    fields.append((hidden("pad"), ctypes.c_ubyte * (byte - cur)))
                cur = byte + ctypes.sizeof(node.ctype)
            if mname:
                fields.append((mname, node.ctype))
                conv.append((mname, node if node.to_py is not _identity else None, False))
                names.append(mname)
                setters[mname] = _field_setter(node)
            else:            # anonymous struct/union: forward its names, C style
                aname = hidden("anon")
                fields.append((aname, node.ctype))
                conv.append((aname, node, True))
                for sub, sub_to_c in (node.setters or {}).items():
                    props[sub] = _forward(aname, sub)
                    names.append(sub)
                    setters[sub] = sub_to_c
        close_storage()
        if not is_union and cur < size:
            fields.append((hidden("pad"), ctypes.c_ubyte * (size - cur)))
        if is_union:
            fields.append((hidden("pad"), ctypes.c_ubyte * size))

        base = ctypes.Union if is_union else ctypes.Structure
        ns = dict(props, _pack_=1, _fields_=fields, _bit_units_=bit_units)
        if bit_units or len(names) != len(fields):
            ns["__init__"] = _init_by_names(names, base)   # Leaf(a, b, bits, ...) as in C
        ct = type(t.name or ("anon_union" if is_union else "anon_struct"), (base,), ns)
        if ctypes.sizeof(ct) != size:
            raise NotImplementedError(f"layout of {t.name} is {ctypes.sizeof(ct)} bytes, BTF says {size}")
        rec = record_class(t.name, names)

        getter = operator.attrgetter(*[c[0] for c in conv]) if conv else (lambda v: ())
        single = len(conv) == 1
        plan = [(i, node, anon) for i, (_, node, anon) in enumerate(conv) if node is not None]
        simple = not any(anon for _, _, anon in plan)

        def to_py(v):
            vals = getter(v)
            vals = [vals] if single else list(vals)
            if simple:
                for i, node, _ in plan:
                    vals[i] = node.to_py(vals[i])
                return tuple.__new__(rec, vals)
            out = []
            j = 0
            for i, val in enumerate(vals):
                if j < len(plan) and plan[j][0] == i:
                    node, anon = plan[j][1], plan[j][2]
                    j += 1
                    if anon:
                        out.extend(node.to_py(val))
                        continue
                    val = node.to_py(val)
                out.append(val)
            return tuple.__new__(rec, out)

        def to_c(v):
            if isinstance(v, ct):
                return v
            if _bytes_like(v):
                return ct.from_buffer_copy(bytes(v).ljust(size, b"\0"))
            if isinstance(v, dict):
                pairs = v.items()
            elif isinstance(v, Record):
                pairs = zip(v._fields, v)
            elif isinstance(v, (tuple, list)):
                if len(v) > len(names):
                    raise ValueError(f"{len(v)} values for {len(names)} fields of {ct.__name__}")
                pairs = zip(names, v)
            elif isinstance(v, (ctypes.Structure, ctypes.Union)):
                # another ctypes record: its memory, as bcc passes it (cut or
                # zero-padded to this record's size)
                return ct.from_buffer_copy(bytes(v)[:size].ljust(size, b"\0"))
            elif hasattr(v, "__dict__"):
                pairs = vars(v).items()
            else:
                raise TypeError(f"cannot make {ct.__name__} from {type(v).__name__}")
            out = ct()
            for name, x in pairs:
                try:
                    setter = setters[name]
                except KeyError:
                    raise ValueError(f"{ct.__name__} has no field {name!r}") from None
                setattr(out, name, setter(x))
            return out
        return _Node(ct, to_py, to_c, setters)


def _init_by_names(names, base):
    """A record's constructor taking its declared fields in order (bit
    fields included), where ctypes would take its storage fields."""
    def __init__(self, *args, **kwargs):
        base.__init__(self)
        if len(args) > len(names):
            raise TypeError(f"{len(args)} values for {len(names)} fields")
        for name, value in zip(names, args):
            setattr(self, name, value)
        for name, value in kwargs.items():
            setattr(self, name, value)
    return __init__


def _field_setter(node):
    # ctypes wants bytes, not a c_char array, when assigning a char[] field.
    ct = node.ctype
    if issubclass(ct, ctypes.Array) and ct._type_ is ctypes.c_char:
        to_c = node.to_c
        return lambda v: to_c(v).raw
    return node.to_c


def _char_to_py(chars):
    if chars == "bytes":
        def to_py(v):
            return v if isinstance(v, bytes) else v.value
    else:
        def to_py(v):
            if not isinstance(v, bytes):
                v = v.value
            return v.decode("utf-8", "replace")
    return to_py


def _bytes_to_c(ct, n, str_ok):
    def to_c(v):
        if isinstance(v, ct):
            return v
        if isinstance(v, str) and str_ok:
            v = v.encode()
        elif isinstance(v, int):     # bytes(5) would be five zero bytes
            raise TypeError(f"{ct.__name__} takes bytes, not an int")
        v = bytes(v)
        if len(v) > n:
            raise ValueError(f"{len(v)} bytes do not fit in {n}")
        return ct.from_buffer_copy(v.ljust(n, b"\0"))
    return to_c


def _bitfield(storage, nbytes, shift, bits, signed):
    """A property reading/writing ``bits`` bits at ``shift`` of a byte storage."""
    mask = (1 << bits) - 1
    top = 1 << (bits - 1)

    def get(self):
        word = int.from_bytes(bytes(getattr(self, storage)), "little")
        v = (word >> shift) & mask
        return v - (1 << bits) if signed and v & top else v

    def set_(self, value):
        word = int.from_bytes(bytes(getattr(self, storage)), "little")
        word = (word & ~(mask << shift)) | ((int(_scalar(value)) & mask) << shift)
        arr = getattr(self, storage)
        ctypes.memmove(arr, word.to_bytes(nbytes, "little"), nbytes)
    return property(get, set_)


def _forward(anon, name):
    """A property reaching ``name`` inside the anonymous member ``anon``."""
    return property(lambda self: getattr(getattr(self, anon), name),
                    lambda self, v: setattr(getattr(self, anon), name, v))


# --- public codecs --------------------------------------------------------------


class Codec:
    """Converts one map key or value type.

    ``ctype``: the ctypes class (bcc's Key/Leaf); ``size``: its size.
    ``encode(v)`` → a ctypes instance whose memory the kernel reads;
    ``decode(buf)`` → plain Python; ``decode_ctype(buf)`` → a ctypes copy.
    """

    def __init__(self, ctype, to_py=_identity, to_c=None):
        self.ctype = ctype
        self.size = ctypes.sizeof(ctype)
        self._simple = issubclass(ctype, ctypes._SimpleCData)
        self._to_py = to_py
        self._to_c = to_c or _default_to_c(ctype)

    def encode(self, value):
        ct = self.ctype
        if isinstance(value, ct):
            return value
        if _bytes_like(value) and not issubclass(ct, ctypes.Array):
            value = bytes(value)
            if len(value) != self.size:
                raise ValueError(f"{len(value)} bytes given for a {self.size}-byte {ct.__name__}")
            return ct.from_buffer_copy(value)
        if isinstance(value, _CData) and not isinstance(value, ctypes._SimpleCData) \
                and ctypes.sizeof(value) == self.size:
            return ct.from_buffer_copy(value)
        v = self._to_c(value)
        return v if isinstance(v, _CData) and not self._simple else ct(v)

    def decode(self, buf, offset=0):
        if offset or not isinstance(buf, self.ctype):
            try:
                obj = self.ctype.from_buffer_copy(buf, offset)
            except ValueError as e:     # a short (torn) record
                raise FormatError(f"cannot decode {self.ctype.__name__}: {e}") from None
        else:
            obj = buf
        return self._to_py(obj.value if self._simple else obj)

    def decode_ctype(self, buf, offset=0):
        return self.ctype.from_buffer_copy(buf, offset)

    def __repr__(self):
        return f"<Codec {self.ctype.__name__} ({self.size} bytes)>"


def _default_to_c(ctype):
    if issubclass(ctype, ctypes._SimpleCData):
        return _scalar
    if issubclass(ctype, ctypes.Array) and ctype._type_ in (ctypes.c_char, ctypes.c_ubyte):
        return _bytes_to_c(ctype, ctype._length_, str_ok=True)

    def to_c(v):
        raise TypeError(f"cannot make {ctype.__name__} from {type(v).__name__}")
    return to_c


_builders = {}


def btf_codec(btf, type_id, chars="str"):
    """The Codec for BTF type ``type_id``; raises NotImplementedError when the
    type has no fixed layout (void, functions, forward declarations)."""
    key = (id(btf), chars)
    entry = _builders.get(key)
    if entry is None or entry[0] is not btf:
        entry = _builders[key] = (btf, _Builder(btf, chars))
    node = entry[1].node(type_id)
    return Codec(node.ctype, node.to_py, node.to_c)


def raw_codec(size):
    """A codec without BTF: an unsigned int for sizes 1/2/4/8, else bytes."""
    ct = _INTS.get((size, False))
    if ct is not None:
        return Codec(ct, _identity, lambda v: int(_scalar(v)))
    ct = ctypes.c_ubyte * size
    return Codec(ct, bytes, _bytes_to_c(ct, size, str_ok=True))


def ctype_codec(ctype, chars="bytes"):
    """A codec for a caller's own ctypes class (bcc's get_table(keytype=...))."""
    return Codec(ctype, _ctypes_to_py(ctype, chars))


def _ctypes_to_py(ctype, chars):
    """A to_py for a hand-written ctypes class, by introspection."""
    if issubclass(ctype, ctypes._SimpleCData):
        return _identity
    if issubclass(ctype, ctypes.Array):
        if ctype._type_ is ctypes.c_char:
            return _char_to_py(chars)
        if ctype._type_ is ctypes.c_ubyte:
            return bytes
        sub = _ctypes_to_py(ctype._type_, chars)
        return lambda v: tuple(map(sub, v))
    if issubclass(ctype, (ctypes.Structure, ctypes.Union)):
        fields = [(f[0], _ctypes_to_py(f[1], chars) if len(f) == 2 else _identity)
                  for f in ctype._fields_]
        rec = record_class(ctype.__name__, [f for f, _ in fields])
        return lambda v: tuple.__new__(rec, [conv(getattr(v, n)) for n, conv in fields])
    return _identity


def codec_for(btf, type_id, size, chars="str"):
    """The BTF codec when the map has BTF for this type and it fits ``size``,
    else the raw codec of ``size`` bytes."""
    if btf is not None and type_id:
        try:
            c = btf_codec(btf, type_id, chars)
        except NotImplementedError:
            c = None
        if c is not None and c.size == size:
            return c
    return raw_codec(size)
