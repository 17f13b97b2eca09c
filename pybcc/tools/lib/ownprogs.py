"""Where BPF programs sit in kernel memory, and their names there.

A stack taken inside a BPF program starts with that program's frame
(bpf_prog_<tag>_<name>), which the stack tools drop with the rest of the
tracing machinery; and a stack of a thread that ran someone else's BPF
program (a waker that woke a ring buffer's reader, a task preempted in a
tracer) has that program's frame further in. Naming either through
/proc/kallsyms means reading the whole file (55-80 ms of kernel time: it
lists JIT images after the core kernel's 120k lines), so the stack tools
take them from the kernel's struct bpf_prog_info instead: each program's
JIT images (main program and subprograms), and the names kallsyms gives
them. OwnPrograms: this process's programs (to drop); BPFPrograms: every
program of the system (to name).
"""
import bisect
import ctypes
import os
import struct

from ...errors import BPFError
from ...kernel import bpf
from ...kernel.uapi import Cmd

# struct bpf_prog_info (include/uapi/linux/bpf.h): the fields read here
_INFO_SIZE = 224
_TAG, _NAME = 8, 64
_NR_JITED_KSYMS, _NR_JITED_FUNC_LENS = 104, 108
_JITED_KSYMS, _JITED_FUNC_LENS = 112, 120
_BTF_ID, _FUNC_INFO_REC_SIZE, _FUNC_INFO, _NR_FUNC_INFO = 128, 132, 136, 144
_NR_PROG_TAGS, _PROG_TAGS = 180, 184
_MAX_IMAGES = 256       # JIT images asked for per program (one per subprogram)
_FUNC_INFO_SIZE = 8     # struct bpf_func_info: insn_off, type_id


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
    """[(start, end, index)] of one program's JIT images (index 0: the main
    program's); empty when the kernel hides them (no JIT, or addresses not
    shown to us)."""
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
    return [(ksyms[i], ksyms[i] + lens[i], i) for i in range(n) if ksyms[i] and lens[i]]


class OwnPrograms:
    """The JIT images of the programs this process holds, read once."""

    def __init__(self):
        images = sorted(r for fd in _program_fds() for r in _images(fd))
        self._starts = [s for s, _, _ in images]
        self._ends = [e for _, e, _ in images]

    def __contains__(self, addr):
        i = bisect.bisect_right(self._starts, addr) - 1
        return i >= 0 and addr < self._ends[i]


def _function_names(fd):
    """The kallsyms names of one program's JIT images, in their order:
    bpf_prog_<tag>_<function>, where the tag is the program's own for the
    main image and each subprogram's for the others, and the function is
    its BTF name when the program has function info, else the program's
    name for the main image ("F" for subprograms loaded without BTF)."""
    info = ctypes.create_string_buffer(_INFO_SIZE)
    bpf.obj_info(fd, info)
    n_tags, n_funcs = struct.unpack_from("<I", info, _NR_PROG_TAGS)[0], \
        struct.unpack_from("<I", info, _NR_FUNC_INFO)[0]
    main_tag = info.raw[_TAG:_TAG + 8]
    name = info.raw[_NAME:_NAME + 16].split(b"\0", 1)[0].decode(errors="replace")
    btf_id = struct.unpack_from("<I", info, _BTF_ID)[0]
    tags = ctypes.create_string_buffer(8 * max(n_tags, 1))
    funcs = ctypes.create_string_buffer(_FUNC_INFO_SIZE * max(n_funcs, 1))
    info = ctypes.create_string_buffer(_INFO_SIZE)
    struct.pack_into("<IQ", info, _FUNC_INFO_REC_SIZE, _FUNC_INFO_SIZE, ctypes.addressof(funcs))
    struct.pack_into("<I", info, _NR_FUNC_INFO, n_funcs)
    struct.pack_into("<IQ", info, _NR_PROG_TAGS, n_tags, ctypes.addressof(tags))
    bpf.obj_info(fd, info)
    func_names = _btf_names(btf_id, [struct.unpack_from("<I", funcs, _FUNC_INFO_SIZE * i + 4)[0]
                                     for i in range(n_funcs)]) if n_funcs and btf_id else []
    out = []
    for i in range(max(n_tags, 1)):
        tag = main_tag if i == 0 else tags.raw[8 * i:8 * i + 8]
        func = func_names[i] if i < len(func_names) else name if i == 0 else "F"
        out.append("bpf_prog_" + tag.hex() + ("_" + func if func else ""))
    return out


def _btf_names(btf_id, type_ids):
    """The names of those types in the BTF object ``btf_id``."""
    from ...btf.types import BTF
    fd = bpf.fd_by_id(Cmd.BTF_GET_FD_BY_ID, btf_id)
    try:
        btf = BTF.parse(bpf.btf_data(fd), lazy=True)
    finally:
        os.close(fd)
    return [btf[t].name or "" for t in type_ids]


class BPFPrograms:
    """The JIT images of every BPF program loaded now, named on demand as
    /proc/kallsyms names them."""

    def __init__(self):
        images = []     # (start, end, program id, image index)
        prog_id = 0
        while True:
            try:
                prog_id = bpf.next_id(Cmd.PROG_GET_NEXT_ID, prog_id)
            except BPFError:
                break
            if prog_id is None:
                break
            fd = self._open(prog_id)
            if fd is None:
                continue
            try:
                images += [(s, e, prog_id, i) for s, e, i in _images(fd)]
            finally:
                os.close(fd)
        images.sort()
        self._images = images
        self._starts = [im[0] for im in images]
        self._names = {}        # program id -> names of its images

    @staticmethod
    def _open(prog_id):
        try:
            return bpf.fd_by_id(Cmd.PROG_GET_FD_BY_ID, prog_id)
        except BPFError:        # unloaded since
            return None

    def lookup(self, addr):
        """(name, offset) of the image holding ``addr``; None when no
        program's image holds it (or its program is gone)."""
        i = bisect.bisect_right(self._starts, addr) - 1
        if i < 0 or addr >= self._images[i][1]:
            return None
        start, _, prog_id, index = self._images[i]
        names = self._names.get(prog_id)
        if names is None:
            fd = self._open(prog_id)
            if fd is None:
                return None
            try:
                names = self._names[prog_id] = _function_names(fd)
            except (BPFError, ValueError, IndexError, struct.error):
                return None     # (gone, or its BTF unreadable: kallsyms will say)
            finally:
                os.close(fd)
        return (names[index], addr - start) if index < len(names) else None
