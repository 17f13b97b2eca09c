"""Rows under named columns, written as bcc's text or as JSON lines.

A tool declares its columns once: the header text bcc prints, bcc's printf
format for a value (separator included, as bcc's format strings have it),
and where the value comes from. The same rows then render as bcc's text,
byte for byte, or with ``--json`` as NDJSON: one object per row, keyed by
the columns' JSON names, numbers as numbers.
"""
import operator
import re
import sys

# compiled when first used, by re's cache (not at the start of every tool)
_CONVERSION = r"%([-+ #0]*)(\d*)(?:\.\d+)?[a-zA-Z]"


def _header_format(fmt):
    """A value format turned into its header's: '%-8.3f ' → '%-8s '."""
    return re.sub(_CONVERSION, lambda m: "%" + m.group(1).replace("0", "") + m.group(2) + "s", fmt)


def json_key(title):
    """'TIME(s)' → 'time_s', 'PCOMM' → 'pcomm'."""
    return re.sub(r"[^0-9a-z]+", "_", title.lower()).strip("_")


def _text(v):
    return v.decode(errors="replace") if isinstance(v, (bytes, bytearray)) else v


def json_value(v):
    """Bytes become text, Records dicts; everything else as JSON has it."""
    if isinstance(v, (bytes, bytearray)):
        return v.decode(errors="replace")
    if isinstance(v, tuple) and hasattr(v, "_asdict"):
        return {k: json_value(x) for k, x in v._asdict().items()}
    if isinstance(v, (list, tuple)):
        return [json_value(x) for x in v]
    return v


def write_json(obj, file=None):
    """One NDJSON line."""
    import json     # only with --json: a plain start does not import it
    (file or sys.stdout).write(json.dumps(obj, default=str) + "\n")


class Column:
    """One column: ``title`` as bcc heads it, ``fmt`` bcc's printf format for
    a value, ``get`` a row attribute name or a function of the row. ``key``
    names it in JSON (default: from the title); ``head`` overrides the header
    format where bcc pads the title differently from the value; ``json``
    gives the JSON value when it differs from the text one (e.g. a number
    that the text shows as "?")."""
    __slots__ = ("title", "fmt", "get", "key", "head", "json", "attr")

    def __init__(self, title, fmt, get, key=None, head=None, json=None):
        self.title, self.fmt = title, fmt
        self.attr = get if isinstance(get, str) else None   # the row attribute it shows
        self.get = operator.attrgetter(get) if isinstance(get, str) else get
        self.key = key or json_key(title)
        self.head = _header_format(fmt) if head is None else head
        self.json = json


class Table:
    """Columns that render rows as bcc's text or JSON lines (``json=True``)."""

    def __init__(self, columns, json=False, file=None):
        self.columns = [c for c in columns if c is not None]
        self.json = json
        self.file = file
        self._fmt = "".join(c.fmt for c in self.columns)
        self._getters = [c.get for c in self.columns]

    @property
    def out(self):
        return self.file or sys.stdout

    def header_text(self):
        return "".join(c.head % c.title for c in self.columns)

    def text(self, row):
        """bcc's line for a row (no newline)."""
        return self._fmt % tuple(_text(get(row)) for get in self._getters)

    def as_dict(self, row):
        return {c.key: json_value((c.json or c.get)(row)) for c in self.columns}

    def print_header(self):
        """The header line; in JSON mode it goes to stderr, for the person
        watching (each JSON object names its own fields)."""
        out = sys.stderr if self.json else self.out
        out.write(self.header_text() + "\n")
        out.flush()

    def format(self, row):
        """The row's output line, newline included."""
        if self.json:
            import json
            return json.dumps(self.as_dict(row), default=str) + "\n"
        return self.text(row) + "\n"

    def write(self, row):
        self.out.write(self.format(row))

    def values(self, row):
        """The columns' values of a row, in order, as the text shows them
        (bytes stay bytes)."""
        return tuple([get(row) for get in self._getters])

    def attributes(self):
        """The row attribute each column shows, in order; None when some
        column computes its value."""
        names = [c.attr for c in self.columns]
        return names if all(names) else None

    def bytes_format(self):
        """bcc's line format as bytes, newline included, for a streaming
        tool's per-event path: it formats values as bytes (``values`` or its
        own faster getter) and decodes a batch of lines at once."""
        return ("".join(c.fmt for c in self.columns) + "\n").encode()
