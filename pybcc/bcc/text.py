"""Text: the str pybcc's bcc API returns where bcc returned bytes.

bcc (Python 3) hands out names and messages as bytes (ksym, sym,
trace_fields, get_syscall_fnname). pybcc returns str, but scripts written
for bcc call ``.decode()`` on them or format them into bytes with
``b"%s" % name``. Text is a str that supports both idioms, compares equal
to its UTF-8 bytes, and concatenates with bytes into bytes.
"""


class Text(str):
    __slots__ = ()

    def decode(self, encoding="utf-8", errors="strict"):
        return str(self)

    def __bytes__(self):
        return self.encode("utf-8", "surrogateescape")

    def __eq__(self, other):
        if isinstance(other, (bytes, bytearray)):
            return bytes(self) == bytes(other)
        return str.__eq__(self, other)

    def __ne__(self, other):
        return not self == other

    __hash__ = str.__hash__

    def __add__(self, other):
        if isinstance(other, (bytes, bytearray)):
            return bytes(self) + bytes(other)
        return Text(str.__add__(self, other))

    def __radd__(self, other):
        if isinstance(other, (bytes, bytearray)):
            return bytes(other) + bytes(self)
        return Text(str(other) + str(self))

    def startswith(self, prefix, *args):
        return str.startswith(self, _as_str(prefix), *args)

    def endswith(self, suffix, *args):
        return str.endswith(self, _as_str(suffix), *args)


def _as_str(x):
    if isinstance(x, (bytes, bytearray)):
        return bytes(x).decode("utf-8", "surrogateescape")
    if isinstance(x, tuple):
        return tuple(_as_str(i) for i in x)
    return x


def text(value):
    """A Text from str, bytes or None (None stays None)."""
    if value is None:
        return None
    if isinstance(value, (bytes, bytearray)):
        return Text(bytes(value).decode("utf-8", "replace"))
    return Text(value)


def as_str(value):
    """Arguments: bcc accepted bytes or str; pybcc works in str."""
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "surrogateescape")
    return value
