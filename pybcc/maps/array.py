"""ArrayMap: a fixed-length map indexed 0..max_entries-1 whose elements
always exist (they start zeroed and cannot be deleted)."""
import ctypes
import mmap
import struct

from ..errors import MapError
from ..kernel.uapi import BPF_F_MMAPABLE, Cmd
from .map import _UNSUPPORTED, HashMap


class MapIndexError(IndexError, KeyError):
    """An array index out of range: catchable as IndexError (like a list) or
    KeyError (like every other missing map key)."""


class ArrayMap(HashMap):

    def _index(self, key):
        if isinstance(key, int):
            i = key + self.max_entries if key < 0 else key   # a[-1] is the last, as bcc
            if not 0 <= i < self.max_entries:
                raise MapIndexError(f"index {key} out of range for {self.name!r} "
                                    f"({self.max_entries} entries)")
            return i
        return key

    def _encode_key(self, key):
        return self.key_codec.encode(self._index(key))

    def _key_bufs(self):
        for i in range(self.max_entries):
            yield ctypes.create_string_buffer(struct.pack("<I", i), 4)

    def __len__(self):
        return self.max_entries

    def __contains__(self, key):
        try:
            self._index(key)
        except MapIndexError:
            return False
        return True

    def __delitem__(self, key):
        raise MapError(f"map {self.name!r}: array elements cannot be deleted, only "
                       f"overwritten; use zero(key) or m[key] = 0 to reset one, clear() for all")

    def zero(self, key=None):
        """Reset one element, or without a key all of them, to all-zero bytes."""
        if key is None:
            self.clear()
        else:
            self._update_buf(self._encode_key(key), ctypes.create_string_buffer(self._value_buf_size), key)

    def clear(self):
        """Zero every element (arrays cannot be emptied)."""
        zero = bytes(self._value_buf_size)
        n, vs = self.max_entries, self._value_buf_size
        if self._batch_ok(Cmd.MAP_UPDATE_BATCH):
            keys = ctypes.create_string_buffer(b"".join(struct.pack("<I", i) for i in range(n)), 4 * n)
            values = ctypes.create_string_buffer(vs * n)
            try:
                self._batch_call(Cmd.MAP_UPDATE_BATCH, None, None, keys, values, n)
                return
            except MapError as e:
                if e.errno not in _UNSUPPORTED:
                    raise
        for i in range(n):
            self._update_buf(ctypes.c_uint32(i), ctypes.create_string_buffer(zero, vs), i)

    # --- memory-mapped access (BPF_F_MMAPABLE: global data and shared arrays) ---

    _mmap = None

    def view(self, index=0):
        """A live ctypes view of element ``index`` in the map's own memory:
        reads and writes need no syscall. Needs BPF_F_MMAPABLE. A frozen map
        (e.g. .rodata) gives a read-only copy; a writably mapped map cannot be
        frozen any more."""
        if not self.flags & BPF_F_MMAPABLE:
            raise MapError(f"map {self.name!r} was not created with BPF_F_MMAPABLE; "
                           "use m[index] instead")
        i = self._index(index)
        if self._mmap is None:
            stride = (self.value_size + 7) & ~7          # the kernel's element size
            length = max(stride * self.max_entries, 1)
            try:
                self._mmap = mmap.mmap(self.fd, length, mmap.MAP_SHARED,
                                       mmap.PROT_READ | mmap.PROT_WRITE)
            except PermissionError:                   # frozen: read-only for us
                self._mmap = mmap.mmap(self.fd, length, mmap.MAP_SHARED, mmap.PROT_READ)
        stride = (self.value_size + 7) & ~7
        ct = self.value_codec.ctype
        try:
            return ct.from_buffer(self._mmap, i * stride)
        except TypeError:                             # read-only mapping: a copy
            return ct.from_buffer_copy(self._mmap, i * stride)

    def close(self):
        if self._mmap is not None:
            try:
                self._mmap.close()
            except BufferError:     # views still alive: the mapping goes with them
                pass
            self._mmap = None
        super().close()
