"""ELF symbol → file offset, which is what the kernel's uprobes take."""
import os
import re
import shutil
import subprocess

from elftools.elf.elffile import ELFFile

from ..errors import AttachError

_FUNC_TYPES = ("STT_FUNC", "STT_GNU_IFUNC")


def vaddr_to_offset(elf, vaddr):
    """File offset of virtual address ``vaddr`` through the PT_LOAD headers."""
    for seg in elf.iter_segments():
        h = seg.header
        if h.p_type == "PT_LOAD" and h.p_vaddr <= vaddr < h.p_vaddr + h.p_memsz:
            return vaddr - h.p_vaddr + h.p_offset
    raise AttachError(f"address {vaddr:#x} is in no loadable segment")


def _symbols(elf):
    for name in (".symtab", ".dynsym"):
        sec = elf.get_section_by_name(name)
        if sec is not None:
            yield from sec.iter_symbols()


def find_symbol(elf, name, functions_only=True):
    """The defined symbol ``name`` (version suffix "@..." ignored), or None."""
    name = name.split("@", 1)[0]
    for sym in _symbols(elf):
        if sym.entry.st_shndx == "SHN_UNDEF" or sym.entry.st_value == 0:
            continue
        if sym.name.split("@", 1)[0] != name:
            continue
        if functions_only and sym.entry.st_info.type not in _FUNC_TYPES:
            continue
        return sym
    return None


def symbol_offset(path, name, functions_only=True):
    """File offset of symbol ``name`` in ELF ``path`` (for uprobes and USDT
    semaphores, which are data: functions_only=False)."""
    with open(path, "rb") as f:
        elf = ELFFile(f)
        sym = find_symbol(elf, name, functions_only)
        if sym is None:
            raise AttachError(f"{path} has no {'function' if functions_only else 'symbol'} "
                              f"{name} (stripped binary? try an offset)")
        return vaddr_to_offset(elf, sym.entry.st_value)


def match_symbols(path, regex):
    """Names of the defined functions of ``path`` matching ``regex`` (re.search
    semantics, as bcc's sym_re), sorted, without duplicates."""
    pat = re.compile(regex)
    with open(path, "rb") as f:
        elf = ELFFile(f)
        return sorted({sym.name.split("@", 1)[0] for sym in _symbols(elf)
                       if sym.entry.st_shndx != "SHN_UNDEF" and sym.entry.st_value
                       and sym.entry.st_info.type in _FUNC_TYPES and pat.search(sym.name)})


def address_offset(path, vaddr):
    with open(path, "rb") as f:
        return vaddr_to_offset(ELFFile(f), vaddr)


def find_binary(name):
    """A path for ``name``: a path as is, a program from $PATH, or a library
    known to ldconfig ("c" and "libc.so.6" both give libc)."""
    if os.sep in name:
        return name
    prog = shutil.which(name)
    if prog:
        return os.path.realpath(prog)
    lib = name if name.startswith("lib") else f"lib{name}"
    try:
        out = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True).stdout
    except OSError:
        out = ""
    for line in out.splitlines():
        soname, _, where = line.strip().partition(" => ")
        soname = soname.split(" ", 1)[0]
        if soname == lib or soname.startswith(lib + ".so"):
            return where.strip()
    raise AttachError(f"cannot find binary or library {name!r} (give a full path)")
