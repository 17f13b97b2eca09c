"""The core kernel's part of /proc/kallsyms, kept on disk per boot.

Reading /proc/kallsyms costs ~60 ms of kernel time (the kernel formats 5 MB
of text on each read) and parsing it ~90 ms and ~25 MB at peak. The core
kernel's symbols (lines without a "[module]") cannot change until the next
boot, so the first reader of a boot writes them once, already parsed, to
<cache>/kallsyms/<boot id>, and later starts map that file: a lookup
touches a few pages of it instead of the whole table.

Layout (native byte order): a 32-byte header (magic, count, width of the
address column, length of the text), the sorted addresses (u64 each), the
offset of each line in the text (u32 each), then the core lines exactly as
kallsyms prints them, in address order.

The file is checked like any cache entry (a regular file of ours or
root's, in a private directory, not writable by others) and by its shape
(magic, sizes); it has no digest, which would mean reading all 5 MB at each
start: what it holds is only addresses and names (no code, nothing the
compiler reads), and whoever could rewrite it could rewrite a digest too.
"""
import os
import struct
from array import array

from .. import cache

_MAGIC = b"PBKSYM01"
_HEADER = struct.Struct("=8sQQQ")


class Table:
    """Sorted addresses, the text offset of each address's line, the text."""

    def __init__(self, addrs, starts, text, width):
        self.addrs, self.starts, self.text, self.width = addrs, starts, text, width


def _path():
    boot = cache.boot_id()
    if not boot:
        return None
    return os.path.join(cache.private_dir("kallsyms"), boot)


def load():
    """The memoized core table of this boot, or None when there is none yet."""
    try:
        path = _path()
    except OSError:
        return None
    table = cache.read_mapped(path, _unpack, "a symbol table") if path else None
    if table is not None:
        table.text.open_file(path)
    return table


def _unpack(mm):
    if len(mm) < _HEADER.size:
        return None
    magic, count, width, text_len = _HEADER.unpack_from(mm)
    addrs_end = _HEADER.size + 8 * count
    starts_end = addrs_end + 4 * count
    if magic != _MAGIC or starts_end + text_len != len(mm) or not 0 < width <= 16:
        return None
    view = memoryview(mm)
    return Table(view[_HEADER.size:addrs_end].cast("Q"), view[addrs_end:starts_end].cast("I"),
                 Text(mm, starts_end), width)


class Text:
    """Lines of kallsyms text from ``base`` on in a buffer (bytes, or the
    mapped memo file), with the few bytes methods the reader uses, so the
    mapped text is never copied."""

    def __init__(self, mm, base=0):
        self._mm, self._base = mm, base
        self._fd = None

    def open_file(self, path):
        """Read lines from the memo file ``path`` (the mapped one) with
        pread, not through the mapping: a page fault maps the 64 KB around
        it, and a stack tool's few hundred lookups mapped the whole 5 MB
        of text into its RSS."""
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            return
        if os.fstat(fd).st_size == len(self._mm) and os.pread(fd, len(_MAGIC), 0) == _MAGIC:
            self._fd = fd
        else:                   # replaced since it was mapped: keep to the mapping
            os.close(fd)

    def line(self, pos):
        """The line that starts at ``pos``, without its newline."""
        if self._fd is None:
            end = self.find(b"\n", pos)
            return self[pos:end if end >= 0 else len(self)]
        out, at = b"", self._base + pos
        while True:
            chunk = os.pread(self._fd, 256, at)
            end = chunk.find(b"\n")
            if end >= 0 or not chunk:
                return out + (chunk[:end] if end >= 0 else chunk)
            out, at = out + chunk, at + len(chunk)

    def __len__(self):
        return len(self._mm) - self._base

    def __getitem__(self, i):
        if isinstance(i, slice):
            start, stop, _ = i.indices(len(self))
            return self._mm[self._base + start:self._base + stop]
        return self._mm[self._base + i]

    def find(self, sub, start=0):
        pos = self._mm.find(sub, self._base + start)
        return pos - self._base if pos >= 0 else -1

    def startswith(self, prefix, start=0):
        pos = self._base + start
        return self._mm[pos:pos + len(prefix)] == prefix

    def buffer(self):
        """The whole text as a buffer (for re.finditer)."""
        return memoryview(self._mm)[self._base:]


def store(table):
    """Write ``table`` (bytes text, sorted) as this boot's memo; remove other
    boots' memos. Failures only cost the next start its time."""
    try:
        path = _path()
        if path is None:
            return
        starts = array("I", table.starts)
        addrs = array("Q", table.addrs)
        header = _HEADER.pack(_MAGIC, len(addrs), table.width, len(table.text))
        cache.write_atomic(path, b"".join((header, addrs.tobytes(), starts.tobytes(),
                                           table.text.buffer())), mode=0o600)
        for name in os.listdir(os.path.dirname(path)):
            if name != os.path.basename(path):
                cache.remove_entry(os.path.join(os.path.dirname(path), name))
    except (OSError, OverflowError):
        pass

