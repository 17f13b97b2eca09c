"""A small, direct ELF reader: headers, sections, segments, notes, symbols.

pyelftools builds a Python object per symbol and takes ~0.4 s for the 16k
symbols of an unstripped libpython; reading the fixed-size records with
struct.iter_unpack takes a few milliseconds, so symbol loading uses this.
Works on anything indexable as bytes: a file mmap or a memory image (vdso).
"""
import mmap
import os
import struct
from array import array

from ..errors import FormatError

SHT_SYMTAB = 2
SHT_NOBITS = 8
SHT_DYNSYM = 11
PT_LOAD = 1
PT_NOTE = 4
ET_EXEC = 2
ET_DYN = 3
STT_NOTYPE = 0
STT_OBJECT = 1
STT_FUNC = 2
STT_GNU_IFUNC = 10
STB_LOCAL = 0
STB_GLOBAL = 1
STB_WEAK = 2
SHN_UNDEF = 0
SHN_XINDEX = 0xFFFF
NT_GNU_BUILD_ID = 3


class ElfError(FormatError):
    """The data is not an ELF file this reader understands."""


class Section:
    __slots__ = ("name", "type", "flags", "addr", "offset", "size", "link", "info", "entsize")

    def __init__(self, name, type, flags, addr, offset, size, link, info, entsize):
        self.name, self.type, self.flags, self.addr = name, type, flags, addr
        self.offset, self.size, self.link, self.info, self.entsize = offset, size, link, info, entsize


class Segment:
    __slots__ = ("type", "flags", "offset", "vaddr", "filesz", "memsz")

    def __init__(self, type, flags, offset, vaddr, filesz, memsz):
        self.type, self.flags, self.offset = type, flags, offset
        self.vaddr, self.filesz, self.memsz = vaddr, filesz, memsz


class ElfFile:
    """Parsed headers of one ELF image. ``data`` stays referenced until close()."""

    def __init__(self, data):
        if len(data) < 52 or bytes(data[:4]) != b"\x7fELF":
            raise ElfError("not an ELF file")
        cls, enc = data[4], data[5]
        if cls not in (1, 2) or enc not in (1, 2):
            raise ElfError("unknown ELF class or byte order")
        self.data = data
        self.is64 = cls == 2
        if self.is64 and len(data) < 64:
            raise ElfError("ELF header truncated")
        e = "<" if enc == 1 else ">"
        self._e = e
        if self.is64:
            hdr = struct.unpack_from(e + "HHIQQQIHHHHHH", data, 16)
        else:
            hdr = struct.unpack_from(e + "HHIIIIIHHHHHH", data, 16)
        (self.type, self.machine, _, self.entry, phoff, shoff, _, _,
         phentsize, phnum, shentsize, shnum, shstrndx) = hdr
        self.segments = self._read_segments(phoff, phentsize, phnum)
        self.sections = self._read_sections(shoff, shentsize, shnum, shstrndx)
        self._by_name = {}
        for s in self.sections:
            self._by_name.setdefault(s.name, s)

    @classmethod
    def open(cls, path):
        """Map a file read-only; close() releases it."""
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size == 0:
                raise ElfError("empty file")
            m = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        try:
            return cls(m)
        except Exception:
            m.close()
            raise

    def close(self):
        if isinstance(self.data, mmap.mmap):
            self.data.close()
        self.data = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _read_segments(self, off, entsize, num):
        fmt = self._e + ("IIQQQQQQ" if self.is64 else "IIIIIIII")
        out = []
        if not off or not num or off + entsize * num > len(self.data):
            return out
        if entsize < struct.calcsize(fmt):
            raise ElfError(f"program header size {entsize} is too small")
        for i in range(num):
            f = struct.unpack_from(fmt, self.data, off + i * entsize)
            if self.is64:
                p_type, p_flags, p_offset, p_vaddr, _, p_filesz, p_memsz, _ = f
            else:
                p_type, p_offset, p_vaddr, _, p_filesz, p_memsz, p_flags, _ = f
            out.append(Segment(p_type, p_flags, p_offset, p_vaddr, p_filesz, p_memsz))
        return out

    def _read_sections(self, off, entsize, num, strndx):
        fmt = self._e + ("IIQQQQIIQQ" if self.is64 else "IIIIIIIIII")
        if not off or off >= len(self.data):
            return []
        if entsize < struct.calcsize(fmt) or off + struct.calcsize(fmt) > len(self.data):
            raise ElfError(f"section header size {entsize} is too small or past the end")
        raw0 = struct.unpack_from(fmt, self.data, off)
        if num == 0:  # more than 0xff00 sections: the count lives in section 0
            num = raw0[5]
        if strndx == SHN_XINDEX:
            strndx = raw0[6]
        if off + entsize * num > len(self.data):
            raise ElfError("section headers past end of file")
        raws = [struct.unpack_from(fmt, self.data, off + i * entsize) for i in range(num)]
        names = b""
        if strndx < num:
            so, ss = raws[strndx][4], raws[strndx][5]
            names = bytes(self.data[so:so + ss])
        out = []
        for r in raws:
            end = names.find(b"\0", r[0])
            name = names[r[0]:end if end >= 0 else None].decode("utf-8", "replace")
            out.append(Section(name, r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[9]))
        return out

    def section(self, name):
        return self._by_name.get(name)

    def section_data(self, sec):
        if sec is None or sec.type == SHT_NOBITS:
            return b""
        return bytes(self.data[sec.offset:sec.offset + sec.size])

    def loads(self):
        return [s for s in self.segments if s.type == PT_LOAD]

    def notes(self):
        """Yield (name, type, desc) from every note segment (or section)."""
        blobs = [bytes(self.data[s.offset:s.offset + s.filesz]) for s in self.segments if s.type == PT_NOTE]
        if not blobs:
            blobs = [self.section_data(s) for s in self.sections if s.name.startswith(".note")]
        for blob in blobs:
            pos = 0
            while pos + 12 <= len(blob):
                namesz, descsz, ntype = struct.unpack_from(self._e + "III", blob, pos)
                pos += 12
                name = blob[pos:pos + namesz].rstrip(b"\0")
                pos += (namesz + 3) & ~3
                desc = blob[pos:pos + descsz]
                pos += (descsz + 3) & ~3
                yield name, ntype, desc

    def build_id(self):
        """The GNU build-id as lowercase hex, or None."""
        for name, ntype, desc in self.notes():
            if name == b"GNU" and ntype == NT_GNU_BUILD_ID:
                return desc.hex()
        return None

    def debuglink(self):
        """(file name, crc32) from .gnu_debuglink, or None."""
        data = self.section_data(self.section(".gnu_debuglink"))
        end = data.find(b"\0")
        if end <= 0:
            return None
        crc_off = (end + 4) & ~3
        if crc_off + 4 > len(data):
            return None
        (crc,) = struct.unpack_from(self._e + "I", data, crc_off)
        return data[:end].decode("utf-8", "replace"), crc

    def symbols(self, sec, types=None, named=None, value=None):
        """Yield (index, name_bytes, value, size, type, bind, shndx) for a symbol table section.

        Undefined symbols are skipped: they name functions of other modules.
        ``types`` (a tuple of STT_* values) keeps only symbols of those types.
        ``named`` (bytes) keeps only symbols called that, or that plus "@version";
        ``value`` only those at that address (either: not both).
        """
        if sec is None or sec.type == SHT_NOBITS or not sec.size:
            return
        strsec = self.sections[sec.link] if sec.link < len(self.sections) else None
        strtab = self.section_data(strsec)
        wanted = None if named is None else _string_offsets(strtab, named)
        if wanted is not None and not wanted:
            return
        raw = bytes(self.data[sec.offset:sec.offset + sec.size])
        if self.is64:
            fmt, order = self._e + "IBBHQQ", (0, 4, 5, 1, 3)
        else:
            fmt, order = self._e + "IIIBBH", (0, 1, 2, 3, 5)
        entsize = struct.calcsize(fmt)
        raw = raw[:len(raw) - len(raw) % entsize]
        i_name, i_value, i_size, i_info, i_shndx = order
        find = strtab.find
        if wanted is not None:      # only the records of those names, found by their st_name
            records = ((i, struct.unpack_from(fmt, raw, i * entsize))
                       for i in _records_with(raw, entsize, 0, self._e + "I", wanted))
        elif value is not None:     # likewise by st_value
            at, field = (8, "Q") if self.is64 else (4, "I")
            records = ((i, struct.unpack_from(fmt, raw, i * entsize))
                       for i in _records_with(raw, entsize, at, self._e + field, (value,)))
        else:
            records = enumerate(struct.iter_unpack(fmt, raw))
        for index, rec in records:
            shndx = rec[i_shndx]
            info = rec[i_info]
            off = rec[i_name]
            if shndx == SHN_UNDEF or (types and info & 0xF not in types) or \
                    (wanted is not None and off not in wanted):
                continue
            end = find(b"\0", off)
            yield index, strtab[off:end], rec[i_value], rec[i_size], info & 0xF, info >> 4, shndx


def _string_offsets(strtab, name):
    """Offsets in a string table where the string ``name`` or "name@..."
    starts. Linkers share string tails ("getpid" may be the end of
    "__getpid"), so a match need not follow a NUL."""
    out = set()
    pos = strtab.find(name)
    while pos >= 0:
        end = pos + len(name)
        if end < len(strtab) and strtab[end] in (0, 64):    # NUL or "@"
            out.add(pos)
        pos = strtab.find(name, pos + 1)
    return out


def _records_with(raw, entsize, at, fmt, values):
    """Indexes, in order, of the records in ``raw`` whose field at byte
    ``at`` (of struct format ``fmt``, "<Q", ">I", ...) is one of ``values``:
    a search of that field's column of bytes, not an unpacking of every
    record (libc: ~3,000 of them, a libc debug file ~10,000: 1-5 ms)."""
    width = struct.calcsize(fmt)
    column = array("Q" if width == 8 else "I", raw)[at // width::entsize // width].tobytes()
    found = set()
    for v in values:
        needle = struct.pack(fmt, v)
        pos = column.find(needle)
        while pos >= 0:
            if pos % width == 0:
                found.add(pos // width)
            pos = column.find(needle, pos + 1)
    return sorted(found)


class HiddenVersions:
    """Whether a .dynsym index's version is hidden, as hidden_versions says,
    read for the indexes asked about only (a lookup by name asks for a few)."""

    def __init__(self, elf):
        self._data = elf.section_data(elf.section(".gnu.version"))
        self._fmt = elf._e + "H"

    def __contains__(self, index):
        if 2 * index + 2 > len(self._data):
            return False
        return bool(struct.unpack_from(self._fmt, self._data, 2 * index)[0] & 0x8000)


def hidden_versions(elf):
    """Indexes of .dynsym entries whose version is hidden (not the default one
    a new link would bind to), from the .gnu.version array (u16 per symbol)."""
    sec = elf.section(".gnu.version")
    data = elf.section_data(sec)
    if not data:
        return frozenset()
    vals = struct.unpack(elf._e + "%dH" % (len(data) // 2), data[:len(data) // 2 * 2])
    return frozenset(i for i, v in enumerate(vals) if v & 0x8000)


def machine_of(path):
    """(class, data encoding, e_machine) of an ELF file, or None: used to pick a library of our arch."""
    try:
        with open(path, "rb") as f:
            head = f.read(20)
    except OSError:
        return None
    if len(head) < 20 or head[:4] != b"\x7fELF":
        return None
    e = "<" if head[5] == 1 else ">"
    return head[4], head[5], struct.unpack_from(e + "H", head, 18)[0]
