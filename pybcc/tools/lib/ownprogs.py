"""Where this process's own BPF programs sit in kernel memory.

A stack taken inside a BPF program starts with that program's frame
(bpf_prog_<tag>_<name>), which the stack tools drop with the rest of the
tracing machinery. Naming it through /proc/kallsyms would mean reading the
whole file (~70 ms of kernel time: it lists JIT images after the core
kernel's 120k lines), so the tools recognise their own programs by address
instead: the kernel reports each program's JIT images (main program and
subprograms) in struct bpf_prog_info.
"""
import bisect
import ctypes
import os
import struct

from ...errors import BPFError
from ...kernel import bpf

# struct bpf_prog_info (include/uapi/linux/bpf.h): the fields read here
_INFO_SIZE = 224
_NR_JITED_KSYMS, _NR_JITED_FUNC_LENS = 104, 108
_JITED_KSYMS, _JITED_FUNC_LENS = 112, 120
_MAX_IMAGES = 256       # JIT images asked for per program (one per subprogram)


def _program_fds():
    """The fds of this process that hold BPF programs."""
    out = []
    try:
        names = os.listdir("/proc/self/fd")
    except OSError:
        return out
    for name in names:
        try:
            if os.readlink("/proc/self/fd/" + name) == "anon_inode:bpf-prog":
                out.append(int(name))
        except (OSError, ValueError):
            continue
    return out


def _images(fd):
    """[(start, end)] of one program's JIT images; empty when the kernel
    hides them (no JIT, or addresses not shown to us)."""
    ksyms = (ctypes.c_uint64 * _MAX_IMAGES)()
    lens = (ctypes.c_uint32 * _MAX_IMAGES)()
    info = ctypes.create_string_buffer(_INFO_SIZE)
    struct.pack_into("<II", info, _NR_JITED_KSYMS, _MAX_IMAGES, _MAX_IMAGES)
    struct.pack_into("<QQ", info, _JITED_KSYMS, ctypes.addressof(ksyms), ctypes.addressof(lens))
    try:
        bpf.obj_info(fd, info)
    except BPFError:
        return []
    n = min(_MAX_IMAGES, *struct.unpack_from("<II", info, _NR_JITED_KSYMS))
    return [(ksyms[i], ksyms[i] + lens[i]) for i in range(n) if ksyms[i] and lens[i]]


class OwnPrograms:
    """The JIT images of the programs this process holds, read once."""

    def __init__(self):
        images = sorted(r for fd in _program_fds() for r in _images(fd))
        self._starts = [s for s, _ in images]
        self._ends = [e for _, e in images]

    def __contains__(self, addr):
        i = bisect.bisect_right(self._starts, addr) - 1
        return i >= 0 and addr < self._ends[i]
