"""bcc's text form of table keys and values (key_sprintf, leaf_scanf, ...).

Integers print as hex ("0x2"), structs as "{ a b }", arrays as "[ a b ]" and
char arrays as quoted strings ('"comm"'); scanf reads the same form back into
a ctypes object of the table's Key or Leaf class.
"""
import ctypes as ct
import re

_PADDING = re.compile(r"^_pad\d+$")     # fields pybcc adds for BTF's holes
_TOKEN = re.compile(rb'\s*(\{|\}|\[|\]|"(?:[^"\\]|\\.)*"|[^\s{}\[\]"]+)')


def declared_fields(t):
    """The fields of record class t as its C declaration has them: pybcc's
    records (maps/codec.py) keep bit fields in byte-array storage units
    (listed in _bit_units_) and add padding fields the C text does not have."""
    units = getattr(t, "_bit_units_", None)
    for field in t._fields_:
        if units is not None and field[0] in units:
            yield from units[field[0]]
        elif not _PADDING.match(field[0]):
            yield field


def _is_char_array(ctype):
    return issubclass(ctype, ct.Array) and ctype._type_ is ct.c_char


def sprintf(value, ctype=None):
    """bytes: the text form of a ctypes value (``ctype`` when ``value`` is a
    plain Python value taken from a struct field)."""
    ctype = ctype or type(value)
    if issubclass(ctype, (ct.Structure, ct.Union)):
        parts = [sprintf(getattr(value, f[0]), f[1]) for f in declared_fields(ctype)]
        return b"{ " + b" ".join(parts) + b" }"
    if _is_char_array(ctype):
        raw = bytes(value) if not isinstance(value, bytes) else value
        return b'"' + raw.split(b"\0", 1)[0] + b'"'
    if issubclass(ctype, ct.Array):
        return b"[ " + b" ".join(sprintf(value[i], ctype._type_) for i in range(ctype._length_)) + b" ]"
    v = value.value if isinstance(value, ct._SimpleCData) else value
    if isinstance(v, bytes):                      # a single c_char
        v = v[0] if v else 0
    if isinstance(v, float):
        return b"%r" % v
    size = ct.sizeof(ctype)
    return b"0x%x" % (int(v or 0) & ((1 << (8 * size)) - 1))


def sscanf(text, ctype):
    """A ctypes ``ctype`` object read from its text form (bytes or str)."""
    if isinstance(text, str):
        text = text.encode()
    tokens = [m.group(1) for m in _TOKEN.finditer(text)]
    pos, value = _parse(tokens, 0, ctype)
    return value if isinstance(value, ctype) else ctype(value)


def _parse(tokens, pos, ctype):
    if pos >= len(tokens):
        raise ValueError("text ends too early")
    tok = tokens[pos]
    if issubclass(ctype, (ct.Structure, ct.Union)):
        if tok != b"{":
            raise ValueError(f"expected '{{' for {ctype.__name__}, got {tok!r}")
        obj, pos = ctype(), pos + 1
        for name, ftype, *_ in declared_fields(ctype):
            pos, v = _parse(tokens, pos, ftype)
            setattr(obj, name, v)
        return _expect(tokens, pos, b"}"), obj
    if _is_char_array(ctype):
        if not tok.startswith(b'"'):
            raise ValueError(f"expected a string, got {tok!r}")
        return pos + 1, tok[1:-1].encode("latin-1") if isinstance(tok, str) else tok[1:-1]
    if issubclass(ctype, ct.Array):
        if tok != b"[":
            raise ValueError(f"expected '[', got {tok!r}")
        arr, pos = ctype(), pos + 1
        for i in range(ctype._length_):
            pos, v = _parse(tokens, pos, ctype._type_)
            arr[i] = v
        return _expect(tokens, pos, b"]"), arr
    if ctype in (ct.c_float, ct.c_double, ct.c_longdouble):
        return pos + 1, float(tok)
    v = int(tok, 0)
    size = ct.sizeof(ctype)
    signed = ctype is not ct.c_char and ctype is not ct.c_bool and ctype(-1).value == -1
    if signed and v >= 1 << (8 * size - 1):
        v -= 1 << (8 * size)
    if ctype is ct.c_char:
        return pos + 1, bytes([v & 0xFF])
    return pos + 1, v


def _expect(tokens, pos, want):
    if pos >= len(tokens) or tokens[pos] != want:
        raise ValueError(f"expected {want.decode()!r}")
    return pos + 1
