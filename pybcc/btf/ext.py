""".BTF.ext: per-instruction debug and relocation records of a BPF object.

Layout (kernel Documentation/bpf/btf.rst, "BTF.ext section"): a header
(magic 0xeB9F, version, flags, hdr_len, then offset/length pairs for
func_info, line_info and, when hdr_len allows, core_relo), offsets counted
from the end of the header. Each info block starts with a u32 record size,
followed by groups of {u32 section name offset, u32 count, records...}.
Names and source lines are offsets into the .BTF string table.
"""
from __future__ import annotations

import struct
from collections.abc import Mapping

from ..errors import FormatError
from ..record import record

MAGIC = 0xEB9F


@record
class _AtInsn:
    """A record about one instruction of a program section."""
    insn_off: int       # bytes from the start of the ELF section

    @property
    def insn(self):
        return self.insn_off // 8


@record
class FuncInfo(_AtInsn):
    type_id: int        # BTF FUNC type
    name: str = ""


class LineInfo:
    """A source line's record. Its file name and text are decoded from the
    BTF string table when first read (only a verifier error shows them):
    decoding them for every line of every loaded program cost starts ~1 ms."""
    __slots__ = ("insn_off", "line", "col", "file_name_off", "line_off", "_strings")

    def __init__(self, insn_off, line, col, file_name_off, line_off, strings):
        self.insn_off = insn_off
        self.line, self.col = line, col
        self.file_name_off = file_name_off   # the raw string offsets, as the kernel wants them
        self.line_off = line_off
        self._strings = strings

    @property
    def insn(self):
        return self.insn_off // 8

    @property
    def file_name(self):
        return _string_at(self._strings, self.file_name_off)

    @property
    def source(self):
        """Text of the source line, as clang recorded it."""
        return _string_at(self._strings, self.line_off)

    def __repr__(self):
        return (f"LineInfo(insn_off={self.insn_off}, file_name={self.file_name!r}, "
                f"source={self.source!r}, line={self.line}, col={self.col})")


def _string_at(strs, off):
    if off == 0 or off >= len(strs):
        return ""
    return strs[off:strs.index(b"\0", off)].decode(errors="replace")


@record
class CoreRelo(_AtInsn):
    type_id: int        # local (program BTF) root type
    access: str         # access string, e.g. "0:1:2"
    kind: int
    access_off: int = 0  # raw string offset of ``access``


class BTFExt:
    """``func_info``, ``line_info``, ``core_relos``: {section name: [records]}
    (read-only mappings that decode a section's records on first use)."""

    def __init__(self):
        self.func_info = _Groups()
        self.line_info = _Groups()
        self.core_relos = _Groups()

    @classmethod
    def parse(cls, data, btf):
        try:
            return cls._parse(data, btf)
        except FormatError:
            raise
        except (struct.error, ValueError, IndexError) as e:
            raise FormatError(f"malformed .BTF.ext: {e}") from None

    @classmethod
    def _parse(cls, data, btf):
        data = bytes(data)
        if len(data) < 8:
            raise FormatError(".BTF.ext too short")
        if struct.unpack_from("<H", data)[0] == MAGIC:
            e = "<"
        elif struct.unpack_from(">H", data)[0] == MAGIC:
            e = ">"
        else:
            raise FormatError("not .BTF.ext data (bad magic)")
        hdr_len = struct.unpack_from(e + "I", data, 4)[0]
        fields = struct.unpack_from(e + "IIII", data, 8)
        core = struct.unpack_from(e + "II", data, 24) if hdr_len >= 32 else (0, 0)
        strs = btf._strings

        def name(off):
            return _string_at(strs, off)

        ext = cls()
        for (off, length), min_rec, make, out in (
                ((fields[0], fields[1]), 8, lambda r: FuncInfo(r[0], r[1], btf[r[1]].name if r[1] < len(btf) else ""),
                 ext.func_info),
                ((fields[2], fields[3]), 16, lambda r: LineInfo(r[0], r[3] >> 10, r[3] & 0x3FF, r[1], r[2], strs),
                 ext.line_info),
                (core, 16, lambda r: CoreRelo(r[0], r[1], name(r[2]), r[3], r[2]), ext.core_relos)):
            if length:
                _parse_block(data[hdr_len + off:hdr_len + off + length], e, min_rec, name, make, out)
        return ext


def _parse_block(block, e, min_rec, name, make, out):
    """One info block: record size, then {sec name, count, records} groups.
    The groups' bounds are checked now; their records are decoded when a
    section's are first asked for (a warm start decodes only those of the
    programs it loads, and no CO-RE records: their results are remembered)."""
    if len(block) < 4:
        raise FormatError(".BTF.ext info block truncated")
    rec_size = struct.unpack_from(e + "I", block)[0]
    if rec_size < min_rec:
        raise FormatError(f".BTF.ext record size {rec_size} < {min_rec}")
    nwords = min_rec // 4
    fmt = struct.Struct(e + "I" * nwords)   # newer, longer records keep this prefix
    pos = 4
    while pos + 8 <= len(block):
        sec_off, count = struct.unpack_from(e + "II", block, pos)
        pos += 8
        if pos + count * rec_size > len(block):
            raise FormatError(".BTF.ext info group truncated")
        out.add(name(sec_off), block, pos, count, rec_size, fmt, make)
        pos += count * rec_size


class _Groups(Mapping):
    """{section name: [records]} of one info block, each section's records
    decoded on first use."""

    def __init__(self):
        self._raw = {}      # name -> [(block, pos, count, rec_size, fmt, make)]
        self._decoded = {}

    def add(self, sec_name, *group):
        self._raw.setdefault(sec_name, []).append(group)

    def __getitem__(self, sec_name):
        recs = self._decoded.get(sec_name)
        if recs is None:
            recs = []
            try:
                for block, pos, count, rec_size, fmt, make in self._raw[sec_name]:
                    for _ in range(count):
                        recs.append(make(fmt.unpack_from(block, pos)))
                        pos += rec_size
            except (struct.error, ValueError, IndexError) as e:
                raise FormatError(f"malformed .BTF.ext: {e}") from None
            self._decoded[sec_name] = recs
        return recs

    def count(self, sec_name):
        """How many records section ``sec_name`` has (without decoding them)."""
        return sum(g[2] for g in self._raw.get(sec_name, ()))

    def __iter__(self):
        return iter(self._raw)

    def __len__(self):
        return len(self._raw)

    def has_records(self):
        """Whether any section has a record (without decoding them)."""
        return any(self.count(sec_name) for sec_name in self._raw)


# --- records for BPF_PROG_LOAD ------------------------------------------------
# The kernel takes these as arrays of fixed records whose insn_off counts
# instructions from the start of the program (not bytes from the section).

FUNC_INFO_SIZE, LINE_INFO_SIZE, CORE_RELO_SIZE = 8, 16, 16


def encode_func_info(records, first_insn=0):
    """bpf_func_info array for a program starting at section insn ``first_insn``."""
    return b"".join(struct.pack("<II", r.insn - first_insn, r.type_id) for r in records)


def encode_line_info(records, first_insn=0):
    return b"".join(struct.pack("<IIII", r.insn - first_insn, r.file_name_off, r.line_off,
                                (r.line << 10) | r.col) for r in records)


def encode_core_relos(records, first_insn=0):
    """bpf_core_relo array, for kernels that apply CO-RE themselves."""
    return b"".join(struct.pack("<IIII", r.insn - first_insn, r.type_id, r.access_off, r.kind)
                    for r in records)


def for_program(records, first_insn, count):
    """The records that fall inside instructions [first_insn, first_insn+count)."""
    return [r for r in records if first_insn <= r.insn < first_insn + count]
