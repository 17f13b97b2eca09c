"""Stack trace maps: stack id → the addresses of one stack, innermost first."""
import ctypes
import errno
import struct

from .map import HashMap
from ..errors import BPFError
from ..kernel import bpf
from ..kernel.uapi import BPF_F_STACK_BUILD_ID, Cmd

# struct bpf_stack_build_id: s32 status; u8 build_id[20]; union { u64 offset; u64 ip; }
_BUILD_ID = struct.Struct("<i20sQ")
BPF_STACK_BUILD_ID_EMPTY, BPF_STACK_BUILD_ID_VALID, BPF_STACK_BUILD_ID_IP = 0, 1, 2


class StackTraceMap(HashMap):
    """m[stack_id] → list of addresses (the kernel's zero padding removed).

    With BPF_F_STACK_BUILD_ID each frame is (status, build_id bytes,
    offset-or-ip) instead: status VALID means (build id, file offset),
    IP means the build id was unavailable and the third field is the address.
    """

    def _decode_value(self, buf, offset=0):
        raw = bytes(buf)[offset:offset + self.value_size]
        if self.flags & BPF_F_STACK_BUILD_ID:
            frames = []
            for status, build_id, off in _BUILD_ID.iter_unpack(raw[:len(raw) // 32 * 32]):
                if status == BPF_STACK_BUILD_ID_EMPTY:
                    break
                frames.append((status, build_id, off))
            return frames
        addrs = struct.unpack(f"<{len(raw) // 8}Q", raw[:len(raw) // 8 * 8])
        try:
            return list(addrs[:addrs.index(0)])
        except ValueError:
            return list(addrs)

    def walk(self, stack_id):
        """bcc's name: the addresses of ``stack_id`` (empty if it is gone).
        A report reads hundreds of stacks: one bpf(2) call each on buffers
        kept for the purpose (a third of the generic lookup's cost)."""
        if self.as_ctypes or stack_id < 0 or stack_id > 0xFFFFFFFF:
            try:
                return self[stack_id]
            except KeyError:
                return []
        lookup = getattr(self, "_walk_lookup", None)
        if lookup is None:
            lookup = self._walk_lookup = _Lookup(self.fd, self.value_size)
        lookup.key.value = stack_id
        try:
            bpf.bpf(Cmd.MAP_LOOKUP_ELEM, lookup.attr)
        except BPFError as e:
            if e.errno == errno.ENOENT:
                return []
            raise self._error("lookup", e, stack_id) from None
        return self._decode_value(lookup.value)

    def __setitem__(self, key, value):
        raise TypeError(f"map {self.name!r}: stack traces are written by BPF programs only")


class _Lookup:
    """A u32 key, a value buffer and the MAP_LOOKUP_ELEM attributes that
    point at them, packed once."""

    def __init__(self, fd, value_size):
        self.key = ctypes.c_uint32()
        self.value = ctypes.create_string_buffer(value_size)
        self.attr = bpf._pack(bpf.MAP_ELEM, {"map_fd": fd, "key": bpf.addr(self.key),
                                             "value": bpf.addr(self.value)})
