"""The linker: one program's instructions, ready for the kernel.

Starting from the program's own function, it appends every subprogram the
program calls (from .text or its own section), rebases the BTF.ext
func_info/line_info records onto the joined instructions, and patches each
relocated instruction: map references become map fds, global-data references
map values, calls and function pointers pc-relative offsets, externs kernel
BTF ids, addresses or .kconfig values (externs.py lays those out).
"""
from __future__ import annotations

from .. import asm
from ..elf_reader import R_BPF_64_32, R_BPF_64_64
from ..errors import LoadError
from ..record import record


@record
class LineInfo:
    insn: int           # instruction index in the loaded program
    file_off: int
    line_off: int
    line_col: int
    origin: object      # the object's .BTF.ext record (btf/ext.py LineInfo)

    @property
    def line(self):
        return self.line_col >> 10

    @property
    def file(self):
        return self.origin.file_name

    @property
    def text(self):
        return self.origin.source


@record
class LinkedProgram:
    insns: list[asm.Insn]
    func_info: list[tuple]       # (insn, btf type id)
    line_info: list[LineInfo]


class Linker:
    """Links the programs of one object. ``insns`` are its sections'
    instructions after CO-RE; ``ext`` its parsed BTF.ext (or None);
    ``externs`` what externs.layout() found."""

    def __init__(self, spec, insns, ext, externs):
        self.spec = spec
        self.insns = insns
        self.ext = ext
        self.externs = externs
        self.map_fds = {}

    def link(self, ps, map_fds):
        """The program's instructions with its subprograms appended and every
        reference (maps, globals, calls, externs) patched."""
        self.map_fds = map_fds
        out: list[asm.Insn] = []
        placed = {}
        pending = []
        func_info, line_info = [], []

        def place(sec_name, start, end):
            pos = len(out)
            placed[(sec_name, start)] = pos
            out.extend(asm.Insn(i.code, i.dst, i.src, i.off, i.imm) for i in self.insns[sec_name][start:end])
            pending.append((sec_name, start, end, pos))
            self._rebase_ext(sec_name, start, end, pos, func_info, line_info)
            return pos

        def callee(sec_name, target):
            pos = placed.get((sec_name, target))
            if pos is None:
                start, end = self._func_range(sec_name, target, ps)
                pos = place(sec_name, start, end)
            return pos

        place(ps.section, ps.start, ps.end)
        i = 0
        while i < len(pending):
            sec_name, start, end, pos = pending[i]
            i += 1
            relocs = self.spec.sections[sec_name].relocs
            for k in range(start, end):
                here = pos + k - start
                insn = out[here]
                rel = relocs.get(k)
                if rel is not None:
                    self._apply_reloc(ps, out, here, rel, callee)
                elif insn.is_call() and insn.src == asm.PSEUDO_CALL:
                    insn.imm = callee(sec_name, k + insn.imm + 1) - here - 1
        func_info.sort()
        line_info.sort(key=lambda r: r.insn)
        return LinkedProgram(out, func_info, line_info)

    def _func_range(self, sec_name, target, ps):
        for start, end, _ in self.spec.sections[sec_name].funcs.values():
            if start == target:
                return start, end
        raise LoadError(f"program {ps.name}: call to instruction {target} of {sec_name}, "
                        f"which starts no function")

    def _apply_reloc(self, ps, out, here, rel, callee):
        insn = out[here]
        where = f"program {ps.name}: instruction {here} refers to {rel.sym_name or rel.sym_section}"
        if rel.type == R_BPF_64_32 and insn.is_call():
            if rel.sym_section == "":  # an extern function: a kfunc
                btf_id = self.externs.ksyms.get(rel.sym_name)
                ext = self.spec.externs.get(rel.sym_name)
                if btf_id is None and not (ext is not None and ext.weak):
                    raise LoadError(f"{where}, a kernel function not in the kernel's BTF")
                # A weak kfunc the kernel lacks becomes call 0, which the
                # verifier accepts as dead code behind bpf_ksym_exists().
                insn.src, insn.imm, insn.off = asm.PSEUDO_KFUNC_CALL, btf_id or 0, 0
                return
            target = rel.sym_value // asm.INSN_SIZE + insn.imm + 1
            insn.src = asm.PSEUDO_CALL
            insn.imm = callee(rel.sym_section, target) - here - 1
            return
        if rel.type != R_BPF_64_64 or not insn.is_ld_imm64():
            raise LoadError(f"{where} with a relocation (type {rel.type}) pybcc does not handle")
        nxt = out[here + 1]
        sec = rel.sym_section
        if sec in (".maps", "maps"):
            insn.src, insn.imm, nxt.imm = asm.PSEUDO_MAP_FD, self.map_fds[rel.sym_name], 0
        elif sec in self.map_fds and self.spec.maps[sec].data is not None:
            off = rel.sym_value + insn.imm
            insn.src, insn.imm, nxt.imm = asm.PSEUDO_MAP_VALUE, self.map_fds[sec], off
        elif sec in self.spec.sections:  # a function pointer (callbacks of bpf_loop, ...)
            target = (rel.sym_value + insn.imm) // asm.INSN_SIZE
            insn.src = asm.PSEUDO_FUNC
            insn.imm = callee(sec, target) - here - 1
            nxt.imm = 0
        elif sec == "":
            ext = self.spec.externs.get(rel.sym_name)
            if ext is None:
                raise LoadError(f"{where}, which nothing defines")
            if ext.kind == "kconfig":
                insn.src = asm.PSEUDO_MAP_VALUE
                insn.imm = self.map_fds[".kconfig"]
                nxt.imm = self.externs.kconfig_offsets[ext.name]
            elif rel.sym_name in self.externs.ksyms:
                insn.src, insn.imm, nxt.imm = asm.PSEUDO_BTF_ID, self.externs.ksyms[rel.sym_name], 0
            elif rel.sym_name in self.externs.ksym_addrs:
                addr = self.externs.ksym_addrs[rel.sym_name]
                insn.src, insn.imm, nxt.imm = 0, addr & 0xFFFFFFFF, addr >> 32
            else:  # a weak ksym the kernel lacks reads as NULL
                insn.src, insn.imm, nxt.imm = 0, 0, 0
        else:
            raise LoadError(f"{where} in section {sec}, which is not a map or global data")

    def _rebase_ext(self, sec_name, start, end, pos, func_info, line_info):
        if self.ext is None:
            return
        for rec in self.ext.func_info.get(sec_name, ()):
            k = rec.insn_off // asm.INSN_SIZE
            if start <= k < end:
                func_info.append((pos + k - start, rec.type_id))
        # .BTF.ext's string offsets index the object's string table, which
        # the BTF loaded for it keeps as its prefix (BTF.to_bytes): as is.
        for rec in self.ext.line_info.get(sec_name, ()):
            k = rec.insn_off // asm.INSN_SIZE
            if start <= k < end:
                line_info.append(LineInfo(pos + k - start, rec.file_name_off, rec.line_off,
                                          (rec.line << 10) | rec.col, rec))
