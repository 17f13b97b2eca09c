"""Maps whose values are kernel objects: programs (PROG_ARRAY), maps
(ARRAY_OF_MAPS, HASH_OF_MAPS), perf events, cgroups, sockets, devices.

Values go in as file descriptors (an int, or any object with fileno() or
.fd) and come out as what the kernel reports: the object's id (programs,
maps), a socket cookie (sockmaps) or the stored number (devmap ifindex,
cpumap queue size).
"""
import os

from . import codec as _codec
from .map import HashMap


def fd_of(value):
    """The fd of a program/map/file object, or the int itself."""
    if isinstance(value, int):
        return value
    fileno = getattr(value, "fileno", None)
    if callable(fileno):
        return fileno()
    fd = getattr(value, "fd", None)
    if isinstance(fd, int):
        return fd
    raise TypeError(f"{type(value).__name__} is not a file descriptor (no fileno() or .fd)")


class FdMap(HashMap):
    """Hash or array of kernel objects. Empty array slots are skipped by items()."""

    def _make_codec(self, ctype, btf_field, size):
        if btf_field == "btf_value_type_id":
            return _codec.raw_codec(size)     # fds in, ids out: never the BTF value type
        return super()._make_codec(ctype, btf_field, size)

    def _encode_value(self, value):
        return self.value_codec.encode(fd_of(value))

    def items(self):
        # Kernel objects are looked up one by one: batch lookups are refused
        # for most of these map types.
        out = []
        for kbuf in self._key_bufs():
            try:
                out.append((self._decode_key(kbuf), self._decode_value(self._lookup_buf(kbuf))))
            except KeyError:
                continue
        return out

    def __len__(self):
        return len(self.items())


class ProgArrayMap(FdMap):
    """Tail-call table: m[i] = program (fd); m[i] → the program's id."""


class MapInMap(FdMap):
    """ARRAY_OF_MAPS / HASH_OF_MAPS: m[k] = inner map (fd); m[k] → its id."""

    def get_map(self, key, **options):
        """Open the inner map stored at ``key`` as a map object. Its BTF comes
        from the kernel, or else from the inner map spec the loader gave us."""
        from ..errors import BPFError, MapError
        from ..kernel import bpf
        from ..kernel.uapi import Cmd
        from .factory import open_map
        from .spec import spec_from_fd
        map_id = self[key]
        if not isinstance(map_id, int):       # as_ctypes mode
            map_id = map_id.value
        try:
            fd = bpf.fd_by_id(Cmd.MAP_GET_FD_BY_ID, map_id)
        except BPFError as e:
            raise self._error("opening inner map", e, key) from None
        try:
            spec = spec_from_fd(fd)
        except BPFError as e:
            os.close(fd)
            raise MapError(f"map {self.name!r}: reading inner map info failed", e.errno) from None
        inner = self.spec.inner
        if spec.btf is None and inner is not None and inner.btf is not None:
            spec.btf = inner.btf
            spec.btf_key_type_id = inner.btf_key_type_id
            spec.btf_value_type_id = inner.btf_value_type_id
        return open_map(fd, spec, **options)


class PerfEventArrayMap(FdMap):
    """One perf event fd per CPU, for bpf_perf_event_output(). The kernel
    does not let user space read it back; the events package reads the rings."""

    def items(self):
        raise TypeError(f"map {self.name!r}: perf event arrays cannot be read from user space")
