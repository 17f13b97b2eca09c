"""Kernel symbols from /proc/kallsyms: address -> name and name -> address.

The file has ~100-200k lines (5 MB). It is read once, on first use, and
kept as it is plus two compact arrays: addresses sorted for bisect, and the
offset of each line in the text. Names are sliced out only when asked for,
and a name is found by searching the text (about a millisecond), which
saves the ~25 MB a dict of every name would cost.
Without CAP_SYSLOG every address reads as zero: that is reported, not guessed.
"""
import bisect
import re
from array import array
import operator
from itertools import accumulate, islice

from ..errors import BPFError, FormatError
from .format import as_str, format_symbol

KALLSYMS = "/proc/kallsyms"
_TEXT_TYPES = b"tTwW"


class KernelSymbols:
    def __init__(self, path=KALLSYMS):
        self.path = path
        self._data = None

    def _load(self):
        with open(self.path, "rb") as f:
            data = f.read()
        width = data.find(b" ")
        if width <= 0:
            raise BPFError(f"{self.path}: empty or unreadable")
        if not data.endswith(b"\n"):
            data += b"\n"
        lines = data.splitlines()
        # Line i starts at the sum of the lengths before it, plus i newlines.
        ends = list(accumulate(map(len, lines)))
        try:
            addrs = [int(line[:width], 16) for line in lines]
        except ValueError as e:
            raise FormatError(f"{self.path}: not a kallsyms table ({e})") from None
        del lines
        if addrs and not any(addrs[:1000]):
            raise BPFError(f"{self.path} shows zero addresses: reading kernel symbols needs "
                           "root (CAP_SYSLOG) and kernel.kptr_restrict < 2")
        starts = [0] + ends[:-1]
        starts = array("Q", map(operator.add, starts, range(len(starts))))
        # BPF programs are listed last, below the modules' addresses.
        self._sorted = all(map(operator.le, addrs, islice(addrs, 1, None)))
        if not self._sorted:
            order = sorted(range(len(addrs)), key=addrs.__getitem__)
            starts = array("Q", [starts[i] for i in order])
            addrs = [addrs[i] for i in order]
        self._width = width
        try:
            self._addrs = array("Q", addrs)
        except OverflowError:
            raise FormatError(f"{self.path}: an address is wider than 64 bits") from None
        self._starts = starts
        self._data = data

    def _ensure(self):
        if self._data is None:
            self._load()

    def refresh(self):
        """Forget the table: BPF programs and modules loaded later appear in it."""
        self._data = None

    def _entry_at(self, pos):
        """(name, type, module or None) of the line starting at text offset pos:
        "addr t name" or "addr t name\\t[module]"."""
        data = self._data
        end = data.index(b"\n", pos)
        name, _, mod = data[pos + self._width + 3:end].partition(b"\t")
        module = mod.strip(b"[]").decode(errors="replace") if mod else None
        kind = chr(data[pos + self._width + 1]) if pos + self._width + 1 < end else "?"
        return name.decode(errors="replace"), kind, module

    def __len__(self):
        self._ensure()
        return len(self._addrs)

    def lookup(self, addr):
        """(name, offset, module) for a kernel address; module is "kernel" for
        the core image. None below the first symbol."""
        self._ensure()
        i = bisect.bisect_right(self._addrs, addr) - 1
        if i < 0:
            return None
        name, _, module = self._entry_at(self._starts[i])
        return name, addr - self._addrs[i], module or "kernel"

    def _find(self, name, module=None):
        """Yield (address, type letter) of each line naming ``name``."""
        self._ensure()
        data, width = self._data, self._width
        needle = b" " + name.encode()
        tail = b"\t[" + module.encode() + b"]\n" if module else None
        pos = data.find(needle)
        while pos >= 0:
            end = pos + len(needle)
            line = pos - width - 2  # "addr t" precedes the name
            if line >= 0 and data[pos - 2:pos - 1] == b" " and (line == 0 or data[line - 1] == 10):
                if tail is None and data[end] in (9, 10) or tail and data.startswith(tail, end):
                    yield int(data[line:line + width], 16), chr(data[pos - 1])
            pos = data.find(needle, end)

    def address(self, name, module=None):
        """Address of a symbol name (in ``module`` if given), or None. Several
        static functions may share a name; the lowest address is returned."""
        name, module = as_str(name), as_str(module)
        best = None
        for addr, _ in self._find(name, module):
            if self._sorted:
                return addr
            best = addr if best is None else min(best, addr)
        return best

    def type_of(self, name):
        """The kallsyms type letter ("T", "t", "W", ...) of a symbol, or None."""
        for _, kind in self._find(as_str(name)):
            return kind
        return None

    def functions(self, pattern):
        """Sorted unique names of text symbols (types t, T, w, W) matching the
        regular expression (re.match, anchored at the start only, as bcc's
        event_re), for probes given by pattern."""
        self._ensure()
        rx = re.compile(pattern)
        out = set()
        for m in re.finditer(rb"^[0-9a-f]+ [tTwW] ([^\t\n]+)", self._data, re.M):
            name = m.group(1).decode(errors="replace")
            if rx.match(name):
                out.add(name)
        return sorted(out)


_default = None


def kernel_symbols():
    """The process-wide table, loaded on first lookup."""
    global _default
    if _default is None:
        _default = KernelSymbols()
    return _default


def ksym(addr, show_module=False, show_offset=False):
    """bcc's BPF.ksym: "name", "name+0x1a", "name [kernel]"; "[unknown]" if unresolvable."""
    hit = kernel_symbols().lookup(addr)
    if hit is None:
        return format_symbol(None, 0, None, show_module, show_offset)
    return format_symbol(hit[0], hit[1], hit[2], show_module, show_offset)


def ksymname(name):
    """bcc's BPF.ksymname: the address of a kernel symbol, -1 when absent."""
    addr = kernel_symbols().address(as_str(name))
    return -1 if addr is None else addr
