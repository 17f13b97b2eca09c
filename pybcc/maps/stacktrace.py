"""Stack trace maps: stack id → the addresses of one stack, innermost first."""
import struct

from .map import HashMap
from ..kernel.uapi import BPF_F_STACK_BUILD_ID

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
        """bcc's name: the addresses of ``stack_id`` (empty if it is gone)."""
        try:
            return self[stack_id]
        except KeyError:
            return []

    def __setitem__(self, key, value):
        raise TypeError(f"map {self.name!r}: stack traces are written by BPF programs only")
