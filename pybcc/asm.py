"""eBPF instructions: encode, decode and a few builders.

The loader patches instructions (map fds, global data, calls, CO-RE) and the
tests and feature probes build tiny programs by hand; both use this module.
"""
import struct


from .record import record

INSN_SIZE = 8

# Instruction classes and fields (linux/bpf_common.h, linux/bpf.h).
LD, LDX, ST, STX, ALU, JMP, JMP32, ALU64 = range(8)
W, H, B, DW = 0x00, 0x08, 0x10, 0x18
IMM, ABS, IND, MEM, ATOMIC = 0x00, 0x20, 0x40, 0x60, 0xC0
K, X = 0x00, 0x08
ADD, SUB, MUL, DIV, OR, AND, LSH, RSH, NEG, MOD, XOR, MOV, ARSH, END = (
    0x00, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80, 0x90, 0xA0, 0xB0, 0xC0, 0xD0)
JA, JEQ, JGT, JGE, JSET, JNE, JSGT, JSGE, CALL, EXIT, JLT, JLE, JSLT, JSLE = (
    0x00, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80, 0x90, 0xA0, 0xB0, 0xC0, 0xD0)

# src_reg values of special instructions.
PSEUDO_MAP_FD = 1
PSEUDO_MAP_VALUE = 2
PSEUDO_BTF_ID = 3
PSEUDO_FUNC = 4
PSEUDO_MAP_IDX = 5
PSEUDO_MAP_IDX_VALUE = 6
PSEUDO_CALL = 1
PSEUDO_KFUNC_CALL = 2


@record
class Insn:
    code: int
    dst: int = 0
    src: int = 0
    off: int = 0
    imm: int = 0

    def encode(self):
        return struct.pack("<BBhi", self.code, (self.src << 4) | self.dst, self.off,
                           _s32(self.imm))

    @property
    def cls(self):
        return self.code & 7

    def is_ld_imm64(self):
        return self.code == (LD | DW | IMM)

    def is_call(self):
        return self.code == (JMP | CALL)


def _s32(v):
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v & 0x80000000 else v


def decode(data):
    """Bytes → list of Insn (an ld_imm64 is two entries, as in the kernel)."""
    out = []
    for off in range(0, len(data) - len(data) % INSN_SIZE, INSN_SIZE):
        code, regs, o, imm = struct.unpack_from("<BBhi", data, off)
        out.append(Insn(code, regs & 0xF, regs >> 4, o, imm))
    return out


def encode(insns):
    return b"".join(i.encode() for i in insns)


# --- builders (enough for probes and tests) ---------------------------------

def mov64_imm(dst, imm):
    return Insn(ALU64 | MOV | K, dst, 0, 0, imm)


def mov64_reg(dst, src):
    return Insn(ALU64 | MOV | X, dst, src)


def alu64_imm(op, dst, imm):
    return Insn(ALU64 | op | K, dst, 0, 0, imm)


def ld_imm64(dst, imm, src=0):
    return [Insn(LD | DW | IMM, dst, src, 0, imm & 0xFFFFFFFF), Insn(0, 0, 0, 0, (imm >> 32) & 0xFFFFFFFF)]


def ld_map_fd(dst, fd):
    return ld_imm64(dst, fd, PSEUDO_MAP_FD)


def ldx_mem(size, dst, src, off):
    return Insn(LDX | MEM | size, dst, src, off)


def stx_mem(size, dst, src, off):
    return Insn(STX | MEM | size, dst, src, off)


def st_mem(size, dst, off, imm):
    return Insn(ST | MEM | size, dst, 0, off, imm)


def atomic_add64(dst, src, off):
    return Insn(STX | ATOMIC | DW, dst, src, off, ADD)


def jmp_imm(op, dst, imm, off):
    return Insn(JMP | op | K, dst, 0, off, imm)


def call_helper(helper_id):
    return Insn(JMP | CALL, 0, 0, 0, helper_id)


def exit_insn():
    return Insn(JMP | EXIT)


def flatten(items):
    """Builders return an Insn or a list (ld_imm64); flatten them to one list."""
    out = []
    for item in items:
        out.extend(item if isinstance(item, list) else [item])
    return out


def apply_patches(insns, patch_list):
    """Replay CO-RE patches (btf.core.patches(): (index, code, dst, src, off,
    imm) each) on a fresh copy of the instructions they were made for. Here,
    not in btf.core, so a start with remembered patches skips the relocator."""
    for i, code, dst, src, off, imm in patch_list:
        ins = insns[i]
        ins.code, ins.dst, ins.src, ins.off, ins.imm = code, dst, src, off, imm
