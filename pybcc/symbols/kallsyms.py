"""Kernel symbols from /proc/kallsyms: address -> name and name -> address.

The file has ~100-200k lines (5 MB). The core kernel's lines come from a
per-boot memo (kallsyms_memo): sorted addresses, the offset of each line,
and the lines themselves, mapped from disk. The modules' and BPF programs'
lines (which change while the system runs) are read from /proc/kallsyms
only when an address outside the core kernel is looked up, or a name is
not in the core kernel. Names are sliced out only when asked for, and a
name is found by searching the text (a few milliseconds), which saves the
~25 MB a dict of every name would cost.
Without CAP_SYSLOG every address reads as zero: that is reported, not guessed.
"""
import os
import re
import sys
from array import array
from itertools import accumulate, islice, repeat
import operator

from ..errors import BPFError, FormatError
from . import kallsyms_memo
from .format import as_str, format_symbol
from .kallsyms_memo import Table, Text
from .preadarray import bisect_right

KALLSYMS = "/proc/kallsyms"
_CHUNK = 1 << 17          # parse this many bytes of lines at a time: small pieces reuse
                          # the same memory (1 MB ones cost ~2800 more page faults)


def _parse(data, path, check_zero=True, end=None):
    """A sorted Table of the whole kallsyms lines of ``data`` (bytes) up to
    ``end`` (by default all; the text ends in a newline there)."""
    end = len(data) if end is None else end
    width = data.find(b" ", 0, end)
    if width <= 0:
        if not end and not check_zero:
            return Table(array("Q"), array("I"), Text(b""), 16)
        raise BPFError(f"{path}: empty or unreadable")
    addrs, starts = array("Q"), array("I")
    pos = 0
    while pos < end:
        cut = data.find(b"\n", min(pos + _CHUNK, end - 1), end) + 1
        lines = data[pos:cut].split(b"\n")
        lines.pop()     # after the chunk's last newline
        addrs.extend(_addresses(lines, width, path))
        # Line i of the chunk starts after the lines before it and their newlines.
        starts.extend(islice(accumulate(map(operator.add, map(len, lines), repeat(1)), initial=pos),
                             len(lines)))
        pos = cut
    if check_zero and addrs and not any(addrs[:1000]):
        raise BPFError(f"{path} shows zero addresses: reading kernel symbols needs "
                       "root (CAP_SYSLOG) and kernel.kptr_restrict < 2")
    # BPF programs are listed last, below the modules' addresses.
    if not all(map(operator.le, addrs, islice(addrs, 1, None))):
        order = sorted(range(len(addrs)), key=addrs.__getitem__)
        starts = array("I", [starts[i] for i in order])
        addrs = array("Q", [addrs[i] for i in order])
    return Table(addrs, starts, Text(data, size=end), width)


def _addresses(lines, width, path):
    """The address column of ``lines`` as an array("Q"). A 64-bit kernel's
    16 hex digits a line are joined and decoded at once (bytes.fromhex: no
    Python work per line, ~25 ms less of a first run); any other shape is
    parsed line by line, as int() reads it."""
    if width == 16:
        try:
            raw = bytes.fromhex(b"".join(map(operator.itemgetter(slice(0, 16)), lines)).decode())
        except (ValueError, UnicodeDecodeError):
            raw = b""
        # Exactly 8 bytes a line only when every line has 16 hex digits first
        # (fromhex skips spaces, and a short line gives fewer digits).
        if len(raw) == 8 * len(lines):
            column = array("Q", raw)
            if sys.byteorder == "little":
                column.byteswap()
            return column
    try:
        return array("Q", [int(line[:width], 16) for line in lines])
    except ValueError as e:
        raise FormatError(f"{path}: not a kallsyms table ({e})") from None
    except OverflowError:
        raise FormatError(f"{path}: an address is wider than 64 bits") from None


def _read(path):
    with open(path, "rb") as f:
        data = f.read()
    if data and not data.endswith(b"\n"):
        data += b"\n"
    return data


def _read_after_core(path):
    """The lines from the first module's ("\t[") on: read in chunks, so
    the core kernel's 5 MB are never held at once (a stack tool's peak RSS)."""
    keep, carry = [], b""
    with open(path, "rb") as f:
        while True:
            chunk = f.read(1 << 16)
            if not chunk:
                break
            if keep:
                keep.append(chunk)
                continue
            buf = carry + chunk
            at = buf.find(b"\t[")
            if at >= 0:
                keep.append(buf[buf.rfind(b"\n", 0, at) + 1:])
            else:
                carry = buf[buf.rfind(b"\n") + 1:]
    data = b"".join(keep)
    return data if not data or data.endswith(b"\n") else data + b"\n"


def _nearest(table, addr):
    """Index of the last symbol at or below addr in table, or -1."""
    return bisect_right(table.addrs, addr) - 1


def _entry_at(table, i):
    """(name, type, module or None) of line i: "addr t name" or "addr t name\\t[module]"."""
    line, width = table.text.line(table.starts[i]), table.width
    name, _, mod = line[width + 3:].partition(b"\t")
    module = mod.strip(b"[]").decode(errors="replace") if mod else None
    kind = chr(line[width + 1]) if width + 1 < len(line) else "?"
    return name.decode(errors="replace"), kind, module


def _find(table, name, module=None):
    """Yield (address, type letter) of each line of table naming ``name``."""
    text, width = table.text, table.width
    needle = b" " + name.encode()
    tail = b"\t[" + module.encode() + b"]\n" if module else None
    pos = text.find(needle)
    while pos >= 0:
        end = pos + len(needle)
        line = pos - width - 2  # "addr t" precedes the name
        if line >= 0 and text[pos - 2] == 32 and (line == 0 or text[line - 1] == 10):
            if tail is None and text[end] in (9, 10) or tail and text.startswith(tail, end):
                yield int(text[line:line + width], 16), chr(text[pos - 1])
        pos = text.find(needle, end)


def _find_names(table, names, prefix):
    """{name: (lowest address, type letter)} of those of ``names`` (all
    starting with ``prefix``) that lines of ``table`` name: one pass over
    the text for " " + prefix, a chunk at a time."""
    wanted, found, width = set(names), {}, table.width
    needle = b" " + prefix.encode()
    for chunk in table.text.chunks():
        pos = chunk.find(needle)
        while pos >= 0:
            line = chunk.rfind(b"\n", 0, pos) + 1
            end = pos + 1
            while end < len(chunk) and chunk[end] not in (9, 10):     # up to a tab or newline
                end += 1
            name = chunk[pos + 1:end].decode(errors="replace")
            if pos == line + width + 2 and name in wanted:      # "addr t name"
                hit = (int(chunk[line:line + width], 16), chr(chunk[pos - 1]))
                found[name] = min(found.get(name, hit), hit)
            pos = chunk.find(needle, end)
    return found


class KernelSymbols:
    def __init__(self, path=KALLSYMS):
        self.path = path
        self._core = None       # /proc/kallsyms: the core kernel's lines; else the whole file
        self._dynamic = None    # modules' and BPF programs' lines (only for /proc/kallsyms)

    def _core_table(self):
        if self._core is None:
            if self.path == KALLSYMS:
                self._core = kallsyms_memo.load()
            if self._core is None:
                self._load()
        return self._core

    def _load(self):
        data = _read(self.path)
        if self.path != KALLSYMS:
            self._core = _parse(data, self.path)
            self._dynamic = _parse(b"", self.path, check_zero=False)
            return
        split = data.find(b"\t[")
        split = data.rfind(b"\n", 0, split) + 1 if split >= 0 else len(data)
        self._core = _parse(data, self.path, end=split)     # (not a 5 MB copy)
        self._dynamic = _parse(data[split:], self.path, check_zero=False)
        kallsyms_memo.store(self._core)

    def _dynamic_table(self):
        if self._dynamic is None:
            self._dynamic = _parse(_read_after_core(self.path), self.path, check_zero=False)
        return self._dynamic

    def _tables(self):
        return self._core_table(), self._dynamic_table()

    def refresh(self):
        """Forget the modules and BPF programs: those loaded later appear."""
        self._dynamic = None
        if self.path != KALLSYMS:
            self._core = None

    def __len__(self):
        return sum(len(t.addrs) for t in self._tables())

    def core_lookup(self, addr):
        """lookup(addr) for an address among the core kernel's symbols (from
        the memo); None for any other (a module's or BPF program's, which
        lookup finds by reading the rest of /proc/kallsyms: 55-80 ms of
        kernel time)."""
        core = self._core_table()
        i = _nearest(core, addr)
        if not 0 <= i < len(core.addrs) - 1:
            return None
        name, _, module = _entry_at(core, i)
        return name, addr - core.addrs[i], module or "kernel"

    def lookup(self, addr):
        """(name, offset, module) for a kernel address; module is "kernel" for
        the core image. None below the first symbol."""
        core = self._core_table()
        best, i = core, _nearest(core, addr)
        # Modules and BPF programs live outside the core kernel's addresses.
        if i < 0 or i == len(core.addrs) - 1:
            dyn = self._dynamic_table()
            j = _nearest(dyn, addr)
            if j >= 0 and (i < 0 or dyn.addrs[j] >= core.addrs[i]):
                best, i = dyn, j
        if i < 0:
            return None
        name, _, module = _entry_at(best, i)
        return name, addr - best.addrs[i], module or "kernel"

    def _first(self, name, module=None):
        """(address, type letter) of the lowest-addressed line naming
        ``name`` (the core kernel's first), or None."""
        tables = (self._core_table, self._dynamic_table)
        if module and self.path == KALLSYMS:
            tables = tables[1:]     # the memo holds the core kernel's lines only
        for table in tables:
            hits = list(_find(table(), name, module))
            if hits:
                return min(hits)
        return None

    def addresses(self, names):
        """{name: address} for those of ``names`` the kernel has, each as
        address(name) gives it, in one pass over the text when they share a
        prefix (vfscount's 25 vfs_* functions: ~1 ms, not 25, and the text
        is read, not mapped into the RSS)."""
        names = sorted({as_str(n) for n in names})
        prefix = os.path.commonprefix(names)
        if len(prefix) < 3:
            return {n: a for n in names if (a := self.address(n)) is not None}
        found = {}
        for table in (self._core_table, self._dynamic_table):
            missing = [n for n in names if n not in found]
            if not missing:
                break
            found.update((n, hit[0]) for n, hit in _find_names(table(), missing, prefix).items())
        return found

    def address(self, name, module=None):
        """Address of a symbol name (in ``module`` if given), or None. Several
        static functions may share a name; the lowest address is returned."""
        hit = self._first(as_str(name), as_str(module))
        return hit and hit[0]

    def type_of(self, name):
        """The kallsyms type letter ("T", "t", "W", ...) of a symbol, or None."""
        hit = self._first(as_str(name))
        return hit and hit[1]

    def functions(self, pattern):
        """Sorted unique names of text symbols (types t, T, w, W) matching the
        regular expression (re.match, anchored at the start only, as bcc's
        event_re), for probes given by pattern."""
        rx = re.compile(pattern)
        out = set()
        for table in self._tables():
            for m in re.finditer(rb"^[0-9a-f]+ [tTwW] ([^\t\n]+)", table.text.buffer(), re.M):
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
