"""Kernel modules' BTF: /sys/kernel/btf/MODULE, split BTF on top of vmlinux's.

A type or function that lives in a module (xfs, nf_conntrack, ...) is found
there, as libbpf does: vmlinux first, then each module's BTF, parsed only when
vmlinux has no answer. Attaching fentry or tp_btf to a module's function also
needs the fd of the module's BTF object in the kernel (attach_btf_obj_fd).
"""
import ctypes
import functools
import os

from ..btf import BTF
from ..errors import BPFError
from . import bpf
from .uapi import Cmd

SYSFS_BTF = "/sys/kernel/btf"


def names():
    """The modules that have BTF, in a stable order; vmlinux excluded."""
    try:
        return sorted(n for n in os.listdir(SYSFS_BTF) if n != "vmlinux")
    except OSError:
        return []


@functools.lru_cache(maxsize=None)
def load(module):
    """The module's BTF (its own types, on top of vmlinux's), read lazily."""
    from ..btf.types import read_sysfs
    return BTF.parse(read_sysfs(os.path.join(SYSFS_BTF, module)), BTF.kernel(), lazy=True)


class KernelTargets:
    """vmlinux's BTF, then each module's, as CO-RE searches them: a module is
    parsed only when the search reaches it (vmlinux had no candidate)."""

    def __init__(self, vmlinux):
        self.vmlinux = vmlinux

    def __iter__(self):
        yield self.vmlinux
        for m in names():
            try:
                yield load(m)
            except (OSError, BPFError):
                continue     # a module unloaded meanwhile, or unreadable BTF


def find(name, kinds, vmlinux=None):
    """(module or None, type id) of the first type ``name`` of ``kinds``:
    vmlinux first, then the modules; None when none has it."""
    vmlinux = vmlinux or BTF.kernel()
    found = vmlinux.find_all(name, tuple(kinds))
    if found:
        return None, found[0].id
    for m in names():
        try:
            btf = load(m)
        except (OSError, BPFError):
            continue
        ids = [i for i in btf.own_ids_named(name) if btf[i].kind in kinds]
        if ids:
            return m, ids[0]
    return None


def object_fd(module):
    """A new fd of the kernel's BTF object of ``module`` (the caller closes
    it); BPFError when the module has none (unloaded meanwhile)."""
    want = module.encode()
    obj_id = 0
    while True:
        obj_id = bpf.next_id(Cmd.BTF_GET_NEXT_ID, obj_id)
        if obj_id is None:
            raise BPFError(f"the kernel has no BTF object for module {module}", 2)
        try:
            fd = bpf.fd_by_id(Cmd.BTF_GET_FD_BY_ID, obj_id)
        except BPFError:
            continue     # freed meanwhile
        name = ctypes.create_string_buffer(64)
        info = ctypes.create_string_buffer(32)
        ctypes.c_uint64.from_buffer(info, 16).value = ctypes.addressof(name)
        ctypes.c_uint32.from_buffer(info, 24).value = len(name)
        try:
            bpf.obj_info(fd, info)
        except BPFError:
            os.close(fd)
            continue
        kernel_btf = ctypes.c_uint32.from_buffer(info, 28).value
        if kernel_btf and name.value == want:
            return fd
        os.close(fd)
