"""bcc.disassembler: BPF instructions and table layouts as text, in bcc's format.

    disassemble_prog(b"do_count", b.dump_func(b"do_count"))
        Disassemble of BPF program b'do_count':
           0: (bf) r6 = r1
           1: (85) call bpf_get_current_pid_tgid#14
           ...
    decode_map(b"counts", b["counts"], BPF_MAP_TYPE_HASH)
        Layout of BPF map b'counts' (type HASH, FD 5, ID 12):
          unsigned int key;
          unsigned long long value;

BPF.disassemble_func and BPF.decode_table call these. Helper names come
from the kernel's own `enum bpf_func_id` (BTF), so every helper has its name.
"""
import ctypes as ct
import functools
from os import linesep

from .. import asm
from .ctext import declared_fields
from .table import get_table_type_name

# ALU operation → C operator (bitwise ones print their immediate in hex, as bcc does)
_ALU = {asm.ADD: "+=", asm.SUB: "-=", asm.MUL: "*=", asm.DIV: "/=", asm.OR: "|=",
        asm.AND: "&=", asm.LSH: "<<=", asm.RSH: ">>=", asm.MOD: "%=", asm.XOR: "^=",
        asm.MOV: "=", asm.ARSH: "s>>=", asm.END: "endian"}
_BITWISE = {asm.OR, asm.AND, asm.XOR}
_JMP = {asm.JEQ: "==", asm.JGT: ">", asm.JGE: ">=", asm.JSET: "&", asm.JNE: "!=",
        asm.JSGT: "s>", asm.JSGE: "s>=", asm.JLT: "<", asm.JLE: "<=", asm.JSLT: "s<",
        asm.JSLE: "s<="}
_SIZE_BITS = {asm.W: 32, asm.H: 16, asm.B: 8, asm.DW: 64}


@functools.lru_cache(maxsize=None)
def _helper_names():
    """{helper id: name} from the kernel's BTF (enum bpf_func_id); {} without BTF."""
    try:
        from ..btf import BTF
        from ..btf import types as bt
        enum = next(iter(BTF.kernel().find_all("bpf_func_id", (bt.ENUM, bt.ENUM64))))
        return {v.value: v.name[len("BPF_FUNC_"):] for v in enum.members}
    except Exception:
        return {}


def _call(insn):
    if insn.src == asm.PSEUDO_CALL:
        return "call %+d" % insn.imm
    name = _helper_names().get(insn.imm)
    return "call bpf_%s#%d" % (name, insn.imm) if name else "call <unknown helper #%d>" % insn.imm


def _decode(i, insn, upper):
    """(text of instruction i, how many following words it uses)."""
    cls, code = insn.cls, insn.code
    op, src_is_reg, size = code & 0xF0, code & asm.X, code & 0x18
    bits, mode = _SIZE_BITS[size], code & 0xE0
    target = i + insn.off + 1
    if cls in (asm.ALU, asm.ALU64):
        if op == asm.NEG:
            return "r%d = ~ (u%d)r%d" % (insn.dst, 64 if cls == asm.ALU64 else 32, insn.dst), 0
        if op not in _ALU:
            return None, 0
        if src_is_reg:
            return "r%d %s r%d" % (insn.dst, _ALU[op], insn.src), 0
        imm = "0x%x" % (insn.imm & 0xFFFFFFFF) if op in _BITWISE else "%d" % insn.imm
        return "r%d %s %s" % (insn.dst, _ALU[op], imm), 0
    if cls in (asm.JMP, asm.JMP32):
        if op == asm.JA:
            return "goto %+d <%d>" % (insn.off, target), 0
        if op == asm.CALL:
            return _call(insn), 0
        if op == asm.EXIT:
            return "exit", 0
        if op not in _JMP:
            return None, 0
        # bcc prints jsle-with-register (0xdd) with the immediate: kept for fidelity
        rhs = "r%d" % insn.src if src_is_reg and code != 0xDD else "%d" % insn.imm
        return "if r%d %s %s goto pc%+d <%d>" % (insn.dst, _JMP[op], rhs, insn.off, target), 0
    if cls == asm.LD and insn.is_ld_imm64():
        if upper is None:
            raise ValueError("lddw requires two instructions to be disassembled")
        if upper.imm == 0:
            return "r%d = <map at fd #%d>" % (insn.dst, insn.imm), 1
        return "r%d = 0x%x" % (insn.dst, ((upper.imm & 0xFFFFFFFF) << 32) |
                               (insn.imm & 0xFFFFFFFF)), 1
    if cls == asm.LD and mode == asm.ABS:
        return "r0 = *(u%d*)skb[%d]" % (bits, insn.imm), 0
    if cls == asm.LD and mode == asm.IND:
        return "r0 = *(u%d*)skb[r%d %+d]" % (bits, insn.src, insn.imm), 0
    if cls == asm.LDX and mode == asm.MEM:
        return "r%d = *(u%d*)(r%d %+d)" % (insn.dst, bits, insn.src, insn.off), 0
    if cls == asm.ST and mode == asm.MEM:
        return "*(u%d*)(r%d %+d) = %d" % (bits, insn.dst, insn.off, insn.imm), 0
    if cls == asm.STX and mode == asm.MEM:
        return "*(u%d*)(r%d %+d) = r%d" % (bits, insn.dst, insn.off, insn.src), 0
    return None, 0


def disassemble_instruction(i, w0, w1=None):
    """("   i: (op) text", words to skip) of instruction w0 (w1: the next one)."""
    text, skip = _decode(i, w0, w1)
    if text is None:
        text = "unknown <0x%x>" % w0.code
    return "%4d: (%02x) %s" % (i, w0.code, text), skip


def disassemble_str(bpfstr):
    """One line per 8-byte word of raw instructions."""
    insns = asm.decode(bytes(bpfstr))
    lines, skip = [], 0
    for i, insn in enumerate(insns):
        if skip:
            skip -= 1
            lines.append("%4d:      (64-bit upper word)" % i)
            continue
        line, skip = disassemble_instruction(i, insn, insns[i + 1] if i + 1 < len(insns) else None)
        lines.append(line)
    return lines


def disassemble_prog(func_name, bpfstr):
    return linesep.join(["Disassemble of BPF program %s:" % (func_name,)] + disassemble_str(bpfstr))


# --- table layouts ------------------------------------------------------------------

_C_NAMES = {ct.c_bool: "_Bool", ct.c_char: "char", ct.c_wchar: "wchar_t",
            ct.c_ubyte: "unsigned char", ct.c_byte: "signed char", ct.c_short: "short",
            ct.c_ushort: "unsigned short", ct.c_int: "int", ct.c_uint: "unsigned int",
            ct.c_long: "long", ct.c_ulong: "unsigned long", ct.c_longlong: "long long",
            ct.c_ulonglong: "unsigned long long", ct.c_float: "float", ct.c_double: "double",
            ct.c_longdouble: "long double"}


def _type_name(t):
    if issubclass(t, ct.Structure):
        return "struct"
    if issubclass(t, ct.Union):
        return "union"
    if issubclass(t, ct.Array):
        if t._type_ in (ct.c_int64, ct.c_uint64) and t._length_ == 2:
            return ("unsigned " if t._type_ is ct.c_uint64 else "") + "__int128"
        return "%s[%d]" % (_type_name(t._type_), t._length_)
    return _C_NAMES.get(t, str(t))


def _size_info(offset, size, enabled, bit=None):
    if not enabled:
        return ""
    return "[%d,%d +%d bit]" % (offset, bit, size) if bit is not None else "[%d +%d] " % (offset, size)


def _fields(t, indent, offset, sizeinfo):
    lines, bit = [], 0
    for field in declared_fields(t):
        name, ftype = field[0], field[1]
        if len(field) == 3:                      # a bit field
            lines.append("%s%s%s %s:%d;" % (indent, _size_info(offset, bit, sizeinfo, field[2]),
                                            _type_name(ftype), name, field[2]))
            bit += field[2]
            continue
        bit = 0
        foff = getattr(t, name).offset
        desc = _size_info(offset + foff, ct.sizeof(ftype), sizeinfo)
        if issubclass(ftype, (ct.Structure, ct.Union)):
            lines.append("%s%s%s {" % (indent, desc, _type_name(ftype)))
            lines += _fields(ftype, indent + "  ", offset + foff, sizeinfo)
            lines.append("%s} %s;" % (indent, name))
        else:
            lines.append("%s%s%s %s;" % (indent, desc, _type_name(ftype), name))
    return lines


def _layout(t, what, sizeinfo):
    if issubclass(t, (ct.Structure, ct.Union)):
        return ["  %s {" % _type_name(t)] + _fields(t, "    ", 0, sizeinfo) + ["  } %s;" % what]
    return ["  %s %s;" % (_type_name(t), what)]


def decode_map(map_name, map_obj, map_type, sizeinfo=False):
    """The key and value layout of table ``map_obj`` as C declarations."""
    head = "Layout of BPF map %s (type %s, FD %d, ID %d):" % (
        map_name, get_table_type_name(map_type), map_obj.map_fd, map_obj.map_id)
    return linesep.join([head] + _layout(map_obj.Key, "key", sizeinfo) +
                        _layout(map_obj.Leaf, "value", sizeinfo))
