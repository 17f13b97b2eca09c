"""USDT probes as sys/sdt.h records them: .note.stapsdt notes.

Each note (owner "stapsdt", type 3) describes one probe location: three
addresses (the probe's pc, the link-time address of .stapsdt.base, the
semaphore or 0), then "provider\\0name\\0arguments\\0". When a prelinker
moved the file, .stapsdt.base's real address differs from the recorded one
and pc and semaphore move by the same amount. The kernel's uprobes take
file offsets, so both addresses are also given as offsets.
"""
from __future__ import annotations

import os
import struct
from ..record import record

from ..symbols import procmaps
from ..symbols.elf import ElfError, ElfFile, PT_LOAD, SHT_NOBITS

NT_STAPSDT = 3


@record(frozen=True)
class Location:
    """One place of a probe in one file."""
    path: str               # the ELF file (as we can open it)
    provider: str
    name: str
    pc: int                 # link-time address of the probe's nop (prelink-adjusted)
    base: int               # .stapsdt.base as recorded in the note
    semaphore: int          # link-time address of the semaphore, 0 if none
    args: str               # argument string, e.g. "-4@%edi 8@(%rsi)"
    offset: int             # file offset of pc: where the uprobe goes
    semaphore_offset: int   # file offset of the semaphore (uprobe ref_ctr_offset), 0 if none
    machine: int = 62       # ELF e_machine (62 x86_64, 183 aarch64)
    elf_type: int = 3       # ET_EXEC (2) or ET_DYN (3)


def _to_offset(elf, vaddr):
    """File offset of a link-time address, through PT_LOAD segments (or
    sections, for files without program headers)."""
    for s in elf.segments:
        if s.type == PT_LOAD and s.vaddr <= vaddr < s.vaddr + s.filesz:
            return vaddr - s.vaddr + s.offset
    for s in elf.sections:
        if s.addr and s.type != SHT_NOBITS and s.addr <= vaddr < s.addr + s.size:
            return vaddr - s.addr + s.offset
    return None


def _cstr(desc, pos):
    end = desc.find(b"\0", pos)
    if end < 0:
        end = len(desc)
    return desc[pos:end].decode("utf-8", "replace"), end + 1


def parse_elf(elf, path):
    """[Location] of an open ElfFile."""
    sec = elf.section(".note.stapsdt")
    if sec is None:
        return []
    blob = elf.section_data(sec)
    base_sec = elf.section(".stapsdt.base")
    e = elf._e
    asize = 8 if elf.is64 else 4
    afmt = e + ("QQQ" if elf.is64 else "III")
    out = []
    pos = 0
    while pos + 12 <= len(blob):
        namesz, descsz, ntype = struct.unpack_from(e + "III", blob, pos)
        pos += 12
        owner = blob[pos:pos + namesz].rstrip(b"\0")
        pos += (namesz + 3) & ~3
        desc = blob[pos:pos + descsz]
        pos += (descsz + 3) & ~3
        if owner != b"stapsdt" or ntype != NT_STAPSDT or len(desc) < 3 * asize:
            continue
        pc, base, sema = struct.unpack_from(afmt, desc, 0)
        provider, p = _cstr(desc, 3 * asize)
        name, p = _cstr(desc, p)
        args, _ = _cstr(desc, p) if p < len(desc) else ("", p)
        if base and base_sec is not None and base_sec.addr != base:
            delta = base_sec.addr - base    # prelinked: everything moved by delta
            pc += delta
            if sema:
                sema += delta
        off = _to_offset(elf, pc)
        if off is None:
            continue    # a probe in no loadable segment cannot be hit
        sema_off = (_to_offset(elf, sema) or 0) if sema else 0
        out.append(Location(path, provider, name, pc, base, sema, args.strip(), off, sema_off,
                            elf.machine, elf.type))
    return out


_READ = {}      # (path, dev, inode, mtime, size) -> [Location], from read_probes()


def read_probes(path):
    """[Location] of every USDT probe location in the ELF file ``path``
    (a list not to be changed). Kept per file while it is unchanged: a tool
    asks one file several times (dbslower: does it have the probes, then
    each probe's attach), and each ask parses all its notes."""
    try:
        st = os.stat(path)
    except OSError:
        return []
    key = (path, st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size)
    if key not in _READ:
        try:
            with ElfFile.open(path) as elf:
                _READ[key] = parse_elf(elf, path)
        except (OSError, ElfError):
            return []
    return _READ[key]


def elf_symbol(path, name):
    """Link-time address of (data or function) symbol ``name`` in ``path``, or None.
    For "sym(%rip)" arguments."""
    try:
        with ElfFile.open(path) as elf:
            for tab in (".symtab", ".dynsym"):
                for _, sname, value, _, _, _, _ in elf.symbols(elf.section(tab)):
                    if sname == name.encode():
                        return value
    except (OSError, ElfError):
        pass
    return None


def process_objects(pid):
    """[(path to open, path the process sees)] of the ELF files mapped by ``pid``,
    in map order, without duplicates."""
    seen, out = set(), []
    for m in procmaps.read_maps(pid):
        if not procmaps.is_file_backed(m) or (m.dev, m.inode) in seen:
            continue
        seen.add((m.dev, m.inode))
        out.append((procmaps.open_path(pid, m), m.path))
    return out


def process_probes(pid):
    """[Location] of every probe in every object mapped by process ``pid``."""
    out = []
    for path, _ in process_objects(pid):
        out.extend(read_probes(path))
    return out


def runtime_address(pid, loc):
    """The probe's address in process ``pid`` (for the ip→spec map of
    kernels without BPF cookies), or None when the file is not mapped."""
    if loc.elf_type == 2:     # ET_EXEC: loaded where linked
        return loc.pc
    try:
        st = os.stat(loc.path)
    except OSError:
        return None
    for m in procmaps.read_maps(pid):
        if m.inode != st.st_ino or "x" not in m.perms:
            continue
        if m.offset <= loc.offset < m.offset + (m.end - m.start):
            return m.start + loc.offset - m.offset
    return None


def match(locations, provider: str | None, name: str) -> list[Location]:
    """Locations of probe ``name`` (of ``provider``; None: any provider)."""
    return [loc for loc in locations
            if loc.name == name and (provider is None or loc.provider == provider)]
