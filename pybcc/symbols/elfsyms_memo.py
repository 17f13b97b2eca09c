"""An ELF file's function address table, kept on disk and mapped, not rebuilt.

A stack tool that names user frames reads the symbol tables of every
library its stacks pass through; for a large C++ library (libLLVM: 35k
functions) that costs ~0.1 s and several MB of Python strings at every
start. The table (ElfSymbols._build: sorted addresses, sizes, one name per
address) depends only on the file, so the first start that builds it also
writes it to <cache>/elfsyms/<key>, keyed by the file's identity (device,
inode, size, mtime, ctime), and later starts read that file with pread: a
lookup reads a few values of it.

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
from itertools import accumulate

from .. import cache
from .preadarray import PreadArray, open_memo

_MAGIC = b"PBELFS01"
_HEADER = struct.Struct("=8sQQQ")


class Names:
    """The i-th name, read from the memo file open as ``fd`` when asked for:
    ``ends`` (a PreadArray) holds where each name ends in the names block,
    which starts at ``block_offset``."""

    def __init__(self, ends, fd, block_offset):
        self._ends, self._fd, self._block_offset = ends, fd, block_offset

    def __len__(self):
        return len(self._ends)

    def __getitem__(self, i):
        if i < 0:
            i += len(self._ends)
        start, end = self._ends.values(i - 1, i + 1) if i else (0, self._ends[i])
        raw = os.pread(self._fd, end - start, self._block_offset + start)
        return raw.decode("utf-8", "replace")

    def close(self):
        os.close(self._fd)


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
    return open_memo(path, _unpack, "an address table")     # (with pread, never mapped)


def _unpack(fd):
    """(addrs, sizes, names, info) of the memo file open as ``fd``, or None
    when its shape is not that of a memo (see the module docstring)."""
    import json     # (only here: not for every tool that imports the ELF reader)
    size = os.fstat(fd).st_size
    head = os.pread(fd, _HEADER.size, 0)
    if len(head) < _HEADER.size or head[:len(_MAGIC)] != _MAGIC:
        return None
    _, count, names_len, info_len = _HEADER.unpack(head)
    if _HEADER.size + 20 * count + names_len + info_len != size:
        return None
    addrs = PreadArray(fd, _HEADER.size, count, "Q")
    sizes = PreadArray(fd, _HEADER.size + 8 * count, count, "Q")
    ends = PreadArray(fd, _HEADER.size + 16 * count, count, "I")
    if count and ends[count - 1] != names_len:
        return None
    try:
        info = json.loads(os.pread(fd, info_len, size - info_len))
    except ValueError:
        return None
    return addrs, sizes, Names(ends, fd, _HEADER.size + 20 * count), info


def store(st, addrs, sizes, names, info):
    """Write the table of the file whose os.stat is ``st``. Failures only
    cost the next start its time."""
    import json     # (only here: not for every tool that imports the ELF reader)
    try:
        path = _path(st)
        encoded = [n.encode("utf-8", "surrogateescape") for n in names]
        ends = array("I", accumulate(map(len, encoded)))
        total = ends[-1] if ends else 0
        blob = json.dumps(info).encode()
        header = _HEADER.pack(_MAGIC, len(addrs), total, len(blob))
        cache.write_atomic(path, b"".join((header, array("Q", addrs).tobytes(), array("Q", sizes).tobytes(),
                                           ends.tobytes(), b"".join(encoded), blob)), mode=0o600)
    except (OSError, OverflowError, ValueError):
        pass

