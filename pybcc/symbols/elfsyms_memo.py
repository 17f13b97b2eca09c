"""An ELF file's function address table, kept on disk and mapped, not rebuilt.

A stack tool that names user frames reads the symbol tables of every
library its stacks pass through; for a large C++ library (libLLVM: 35k
functions) that costs ~0.1 s and several MB of Python strings at every
start. The table (ElfSymbols._build: sorted addresses, sizes, one name per
address) depends only on the file, so the first start that builds it also
writes it to <cache>/elfsyms/<key>, keyed by the file's identity (device,
inode, size, mtime, ctime), and later starts map that file: a lookup
touches a few of its pages.

Layout (native byte order): a 32-byte header (magic, count, length of the
names, length of a JSON block), the sorted addresses (u64), the sizes (u64),
the end offset of each name in the names block (u32), the names (UTF-8,
back to back), then the JSON block (the file's type, build id, segments,
separate debug file). It is checked like kallsyms_memo's: a cache entry of
ours in a private directory, and by its shape; no digest (it is addresses
and names only, and a digest would mean reading all of it at each start).
"""
import os
import struct
from array import array

from .. import cache

_MAGIC = b"PBELFS01"
_HEADER = struct.Struct("=8sQQQ")


class Names:
    """The i-th name, read from the mapped names block when asked for."""

    def __init__(self, ends, block, block_offset=None):
        self._ends, self._block = ends, block
        self._block_offset = block_offset     # where the block starts in the file
        self._fd = None

    def open_file(self, path, size):
        """Read names from the memo file ``path`` (the mapped one, ``size``
        bytes) with pread, not through the mapping: each page fault maps
        the 64 KB around it, so a stack tool's lookups mapped most of a
        large library's names block into its RSS."""
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            return
        if os.fstat(fd).st_size == size and os.pread(fd, len(_MAGIC), 0) == _MAGIC:
            self._fd = fd
        else:                   # replaced since it was mapped: keep to the mapping
            os.close(fd)

    def __len__(self):
        return len(self._ends)

    def __getitem__(self, i):
        if i < 0:
            i += len(self._ends)
        start = self._ends[i - 1] if i else 0
        if self._fd is not None:
            raw = os.pread(self._fd, self._ends[i] - start, self._block_offset + start)
        else:
            raw = bytes(self._block[start:self._ends[i]])
        return raw.decode("utf-8", "replace")


def entry_name(st):
    """The memo's file name for the file whose os.stat is ``st``."""
    key = f"{st.st_dev}-{st.st_ino}-{st.st_size}-{st.st_mtime_ns}-{st.st_ctime_ns}"
    return cache.sha256(key.encode()).hexdigest()[:32]


def _path(st):
    return os.path.join(cache.private_dir("elfsyms"), entry_name(st))


def stored_file(path):
    """The file the memo at ``path`` was made from (its info block's
    "file"), or None when it does not say or is not a memo."""
    import json     # (only here: not for every tool that imports the ELF reader)
    try:
        with open(path, "rb") as f:
            head = f.read(_HEADER.size)
            if len(head) < _HEADER.size or head[:len(_MAGIC)] != _MAGIC:
                return None
            info_len = _HEADER.unpack(head)[3]
            f.seek(-info_len, os.SEEK_END)
            info = json.loads(f.read(info_len))
    except (OSError, ValueError):
        return None
    found = info.get("file") if isinstance(info, dict) else None
    return found if isinstance(found, str) else None


def load(st):
    """(addrs, sizes, names, info) of the file whose os.stat is ``st``, from
    its memo; None when there is none (or it is unusable)."""
    try:
        path = _path(st)
    except OSError:
        return None
    found = cache.read_mapped(path, _unpack, "an address table")
    if found is not None:
        found[2].open_file(path, len(found[2]._block.obj))    # .obj: the whole mapping
    return found


def _unpack(mm):
    """(addrs, sizes, names, info) laid over the mapped file, or None when
    its shape is not that of a memo (see the module docstring)."""
    import json     # (only here: not for every tool that imports the ELF reader)
    head = mm[:_HEADER.size]
    if len(head) < _HEADER.size or head[:len(_MAGIC)] != _MAGIC:
        return None
    _, count, names_len, info_len = _HEADER.unpack(head)
    lengths = (8 * count, 8 * count, 4 * count, names_len, info_len)
    if _HEADER.size + sum(lengths) != len(mm):
        return None
    view, pos, parts = memoryview(mm), _HEADER.size, []
    for n in lengths:
        parts.append(view[pos:pos + n])
        pos += n
    addrs, sizes, ends, names, info = parts
    ends = ends.cast("I")
    if count and ends[count - 1] != names_len:
        return None
    try:
        info = json.loads(bytes(info))
    except ValueError:
        return None
    names_offset = _HEADER.size + 20 * count
    return addrs.cast("Q"), sizes.cast("Q"), Names(ends, names, names_offset), info


def store(st, addrs, sizes, names, info):
    """Write the table of the file whose os.stat is ``st``. Failures only
    cost the next start its time."""
    import json     # (only here: not for every tool that imports the ELF reader)
    try:
        path = _path(st)
        encoded = [n.encode("utf-8", "surrogateescape") for n in names]
        ends, total = array("I"), 0
        for n in encoded:
            total += len(n)
            ends.append(total)
        blob = json.dumps(info).encode()
        header = _HEADER.pack(_MAGIC, len(addrs), total, len(blob))
        cache.write_atomic(path, b"".join((header, array("Q", addrs).tobytes(), array("Q", sizes).tobytes(),
                                           ends.tobytes(), b"".join(encoded), blob)), mode=0o600)
    except (OSError, OverflowError, ValueError):
        pass

