"""The core kernel's part of /proc/kallsyms, kept on disk per boot.

Reading /proc/kallsyms costs ~60 ms of kernel time (the kernel formats 5 MB
of text on each read) and parsing it ~90 ms and ~25 MB at peak. The core
kernel's symbols (lines without a "[module]") cannot change until the next
boot, so the first reader of a boot writes them once, already parsed, to
<cache>/kallsyms/<boot id>, and later starts read that file with pread: a
lookup reads a few values and a line of it instead of the whole table.

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

from .. import cache
from .preadarray import PreadArray, open_memo

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
    """The memoized core table of this boot, or None when there is none yet.
    Read with pread, not mapped (symbols/preadarray.py); the text is mapped
    only for a search by name (Text)."""
    try:
        path = _path()
    except OSError:
        return None
    return open_memo(path, _unpack, "a symbol table")


def _unpack(fd):
    """The Table in the memo file open as ``fd``, or None when its shape is
    not that of a memo."""
    size = os.fstat(fd).st_size
    head = os.pread(fd, _HEADER.size, 0)
    if len(head) < _HEADER.size:
        return None
    magic, count, width, text_len = _HEADER.unpack(head)
    addrs_end = _HEADER.size + 8 * count
    starts_end = addrs_end + 4 * count
    if magic != _MAGIC or starts_end + text_len != size or not 0 < width <= 16:
        return None
    return Table(PreadArray(fd, _HEADER.size, count, "Q"), PreadArray(fd, addrs_end, count, "I"),
                 Text(None, starts_end, fd, size), width)


class Text:
    """Lines of kallsyms text from ``base`` up to ``size`` in a buffer
    (bytes; by default all of it), or in the memo file open as ``fd``
    (``size`` bytes): lines are read from it
    with pread, and it is mapped only when the text is searched (a name
    looked up). It has the few bytes methods the reader uses."""

    def __init__(self, data, base=0, fd=None, size=None):
        self._data, self._base = data, base
        self.fd = fd
        self._size = len(data) if size is None else size

    def _buf(self):
        if self._data is None:
            import mmap
            self._data = mmap.mmap(self.fd, 0, prot=mmap.PROT_READ)
        return self._data

    def line(self, pos):
        """The line that starts at ``pos``, without its newline."""
        if self.fd is None:
            end = self.find(b"\n", pos)
            return self[pos:end if end >= 0 else len(self)]
        out, at = b"", self._base + pos
        while True:
            chunk = os.pread(self.fd, 256, at)
            end = chunk.find(b"\n")
            if end >= 0 or not chunk:
                return out + (chunk[:end] if end >= 0 else chunk)
            out, at = out + chunk, at + len(chunk)

    def __len__(self):
        return self._size - self._base

    def __getitem__(self, i):
        if isinstance(i, slice):
            start, stop, _ = i.indices(len(self))
            return self._buf()[self._base + start:self._base + stop]
        return self._buf()[self._base + i]

    def find(self, sub, start=0):
        pos = self._buf().find(sub, self._base + start, self._size)
        return pos - self._base if pos >= 0 else -1

    def startswith(self, prefix, start=0):
        pos = self._base + start
        return self._buf()[pos:pos + len(prefix)] == prefix

    def buffer(self):
        """The whole text as a buffer (for re.finditer)."""
        return memoryview(self._buf())[self._base:self._size]

    def chunks(self, size=1 << 18):
        """The text in pieces of whole lines, about ``size`` bytes each:
        from the memo with pread, never mapped (a mapping of the 5 MB would
        stay in the RSS), or the buffer in one piece."""
        if self.fd is None:
            yield bytes(self._buf()[self._base:self._size])
            return
        at, carry = self._base, b""
        while at < self._size:
            chunk = os.pread(self.fd, min(size, self._size - at), at)
            if not chunk:
                break
            at += len(chunk)
            chunk = carry + chunk
            cut = chunk.rfind(b"\n") + 1
            carry = chunk[cut:]
            if cut:
                yield chunk[:cut]
        if carry:
            yield carry


def store(table):
    """Write ``table`` (bytes text, sorted) as this boot's memo; remove other
    boots' memos. Failures only cost the next start its time."""
    try:
        path = _path()
        if path is None:
            return
        addrs, starts = table.addrs, table.starts      # (arrays "Q" and "I": joined as they are)
        header = _HEADER.pack(_MAGIC, len(addrs), table.width, len(table.text))
        cache.write_atomic(path, b"".join((header, addrs, starts, table.text.buffer())), mode=0o600)
        for name in os.listdir(os.path.dirname(path)):
            if name != os.path.basename(path):
                cache.remove_entry(os.path.join(os.path.dirname(path), name))
    except (OSError, OverflowError):
        pass

