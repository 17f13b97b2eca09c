"""Memo files read with pread instead of a mapping, and sorted arrays of integers in them.

The symbol memos (kallsyms_memo, elfsyms_memo) hold sorted address arrays of
~1 MB. Searched through a mapping, each page fault maps the 64 KB around it
(the kernel's fault-around), so a stack tool's few hundred lookups brought
most of every array it touched into its RSS. Here the first search reads the
array once, 64 KB at a time, keeping the value at each block boundary (every
BLOCK-th: 235 for the kernel's 120k symbols); every search then finds its
block among those (one C bisect) and reads that one block of at most BLOCK
values, and keeps nothing else.
Mapping is avoided altogether: on this kernel the page cache holds such a
file in large folios, and the first touch of a mapping (its header) brought
2 MB of it into the RSS.
"""
import bisect
import os
import sys
from array import array

from .. import cache


def open_memo(path, unpack, what):
    """``unpack(fd)`` of the cache entry at ``path`` (checked by entry_ok
    without a digest), open for pread; None when there is none. A memo
    whose shape unpack refuses (None) is removed with a warning, so it is
    rebuilt."""
    if not path or not cache.entry_ok(path, digest=False):
        return None
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    found = unpack(fd)
    if found is None:
        os.close(fd)
        print(f"pybcc: warning: cache entry {path} is truncated or not {what}: rebuilding it",
              file=sys.stderr)
        cache.remove_entry(path)
    return found


class PreadArray:
    """``count`` unsigned integers of ``typecode`` ("I", "Q") in native byte
    order at ``offset`` of the file open as ``fd``."""

    BLOCK = 512         # values read at once at the end of a search (4 KB of u64)
    CHUNK = 8192        # values read at once when collecting the boundaries (64 KB of u64)

    def __init__(self, fd, offset, count, typecode):
        self._fd, self._offset, self._count = fd, offset, count
        self._typecode = typecode
        self._width = array(typecode).itemsize
        self._boundaries = None   # [value at 0, at BLOCK, at 2 * BLOCK, ...]
        self._last = (0, array(typecode))     # (first index, values) of the last block read

    def __len__(self):
        return self._count

    def __getitem__(self, i):
        if i < 0:
            i += self._count
        if not 0 <= i < self._count:
            raise IndexError(i)
        first, block = self._last
        if first <= i < first + len(block):     # a search's neighbours
            return block[i - first]
        return self.values(i, i + 1)[0]

    def values(self, start, stop):
        """[self[start], ..., self[stop - 1]] in one read."""
        size = (stop - start) * self._width
        raw = os.pread(self._fd, size, self._offset + start * self._width)
        if len(raw) != size:
            raise IndexError(stop)  # the file was cut short under us
        out = array(self._typecode)
        out.frombytes(raw)
        return out

    def _block_boundaries(self):
        if self._boundaries is None:
            bounds = array(self._typecode)
            for start in range(0, self._count, self.CHUNK):    # (CHUNK: a multiple of BLOCK)
                bounds.extend(self.values(start, min(start + self.CHUNK, self._count))[::self.BLOCK])
            self._boundaries = bounds
        return self._boundaries

    def bisect_right(self, x):
        """bisect.bisect_right(self, x): the last block whose first value is
        at most ``x`` (the blocks' first values are kept), then a search in
        that block."""
        lo = bisect.bisect_right(self._block_boundaries(), x)
        if lo == 0:
            return 0            # below the first value
        start = (lo - 1) * self.BLOCK
        block = self.values(start, min(start + self.BLOCK, self._count))
        self._last = (start, block)
        return start + bisect.bisect_right(block, x)


def bisect_right(values, x):
    """bisect_right over an array, a memoryview or a PreadArray."""
    if isinstance(values, PreadArray):
        return values.bisect_right(x)
    return bisect.bisect_right(values, x)
