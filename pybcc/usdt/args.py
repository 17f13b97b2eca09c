"""USDT argument strings → what a BPF program needs to read each argument.

sys/sdt.h writes each argument as "SIZE@OPERAND", the operand in the
assembler's own syntax; SIZE is the byte count, negative for signed values.

x86_64 (AT&T):  -4@%edi  8@$42  8@-16(%rbp)  4@(%rsi)  8@8(%rax,%rdx,8)
                8@counter(%rip)  8@counter+8(%rip)   (a global variable)
aarch64:        -4@x0  8@[x1]  -4@[sp, 16]  8@[x2,-8]  4@5  4@w3

Each becomes an Arg: a constant, a register, or memory at
register + displacement (+ index << scale). Registers are named by their
member of the kernel's struct pt_regs; spec.py turns that into an offset.
"""
from __future__ import annotations

import re
from ..record import record

from ..errors import AttachError

CONST, REG, DEREF, DEREF_IDX = 0, 1, 2, 3
KIND_NAMES = {CONST: "const", REG: "reg", DEREF: "reg_deref", DEREF_IDX: "reg_deref_index"}

EM_X86_64 = 62
EM_AARCH64 = 183


@record(frozen=True)
class Arg:
    size: int                    # bytes: 1, 2, 4 or 8
    signed: bool
    kind: int                    # CONST, REG, DEREF, DEREF_IDX
    reg: str | None = None    # pt_regs member ("ax", "di", "regs[3]", "sp", "ip")
    off: int = 0                 # the constant, or the displacement
    index: str | None = None  # index register (DEREF_IDX)
    scale: int = 1
    symbol: str | None = None  # "sym(%rip)": displacement is sym's address - pc
    text: str = ""

    @property
    def kind_name(self):
        return KIND_NAMES[self.kind]


# x86_64 register names (all widths) → struct pt_regs member.
_X86 = {}
for _m, _names in {"ax": "rax eax ax al", "bx": "rbx ebx bx bl", "cx": "rcx ecx cx cl",
                   "dx": "rdx edx dx dl", "si": "rsi esi si sil", "di": "rdi edi di dil",
                   "bp": "rbp ebp bp bpl", "sp": "rsp esp sp spl", "ip": "rip eip"}.items():
    for _n in _names.split():
        _X86[_n] = _m
for _i in range(8, 16):
    for _suffix in ("", "d", "w", "b"):
        _X86[f"r{_i}{_suffix}"] = f"r{_i}"


def _x86_reg(name, text):
    reg = _X86.get(name.lower())
    if reg is None:
        raise AttachError(f"USDT argument {text!r}: register %{name} is not supported "
                          f"(high-byte or vector registers cannot be read)")
    return reg


def _arm64_reg(name, text):
    n = name.lower()
    if n in ("sp", "wsp"):
        return "sp"
    m = re.fullmatch(r"[xw](\d+)", n)
    if m and int(m.group(1)) <= 30:
        return f"regs[{int(m.group(1))}]"
    raise AttachError(f"USDT argument {text!r}: register {name} is not supported")


# Patterns, not compiled here: re compiles (and caches) the few a file's
# notes use when first matched, not all eight at every tool's import.
_NUM = r"[-+]?(?:0[xX][0-9a-fA-F]+|\d+)"
_X86_CONST = rf"\$({_NUM})"
_X86_REG = r"%(\w+)"
_X86_MEM = rf"({_NUM})?\(%(\w+)\)"
_X86_IDX = rf"({_NUM})?\(%(\w+)?,%(\w+)(?:,(\d+))?\)"
_X86_SYM = r"([A-Za-z_.$][\w.$@]*)([-+](?:0[xX][0-9a-fA-F]+|\d+))?\(%(\w+)\)"
_A64_CONST = rf"#?({_NUM})"
_A64_REG = r"([xw]\d+|sp|wsp)"
_A64_MEM = rf"\[([xw]\d+|sp)(?:\s*,\s*#?({_NUM}))?\]"


def _num(s):
    return int(s, 0) if s else 0


def _plain_word(s):
    """s is a register name as \\w+ takes it (ASCII letters and digits only)."""
    return s.isascii() and s.isalnum()


def _plain_num(s):
    """s is a number as _NUM takes it (decimal or 0x hex, with a sign or not)."""
    digits = s[1:] if s[:1] in "+-" else s
    if digits[:2] in ("0x", "0X"):
        digits = digits[2:]
        return digits.isascii() and digits != "" and all(c in "0123456789abcdefABCDEF" for c in digits)
    return digits.isascii() and digits.isdigit()


def _size(text, sz):
    try:
        n = int(sz)
    except ValueError:
        raise AttachError(f"USDT argument {text!r}: size {sz!r} is not an integer "
                          f"(floating-point arguments are not supported)") from None
    if abs(n) not in (1, 2, 4, 8):
        raise AttachError(f"USDT argument {text!r}: size {n} (want 1, 2, 4 or 8)")
    return abs(n), n < 0


def parse_arg(text, machine=EM_X86_64):
    """One "SIZE@OPERAND" → Arg."""
    sz, at, op = text.partition("@")
    if not at:      # very old sdt.h: no size; a long
        sz, op = "8", text
    size, signed = _size(text, sz)
    op = op.strip()
    kw = dict(size=size, signed=signed, text=text)
    if machine == EM_AARCH64:
        m = re.fullmatch(_A64_MEM, op)
        if m:
            return Arg(kind=DEREF, reg=_arm64_reg(m.group(1), text), off=_num(m.group(2)), **kw)
        m = re.fullmatch(_A64_REG, op)
        if m:
            return Arg(kind=REG, reg=_arm64_reg(m.group(1), text), **kw)
        m = re.fullmatch(_A64_CONST, op)
        if m:
            return Arg(kind=CONST, off=int(m.group(1), 0), **kw)
        raise AttachError(f"USDT argument {text!r}: cannot parse this aarch64 operand")
    if machine != EM_X86_64:
        raise AttachError(f"USDT arguments of ELF machine {machine} are not supported "
                          f"(x86_64 and aarch64 are)")
    # the commonest operands, %reg and DISP(%reg), without compiling the patterns below
    if op[:1] == "%" and _plain_word(op[1:]):
        return Arg(kind=REG, reg=_x86_reg(op[1:], text), **kw)
    disp, paren, reg = op[:-1].partition("(%")
    if paren and op[-1:] == ")" and _plain_word(reg) and (not disp or _plain_num(disp)):
        return Arg(kind=DEREF, reg=_x86_reg(reg, text), off=_num(disp), **kw)
    m = re.fullmatch(_X86_CONST, op)
    if m:
        return Arg(kind=CONST, off=int(m.group(1), 0), **kw)
    m = re.fullmatch(_X86_REG, op)
    if m:
        return Arg(kind=REG, reg=_x86_reg(m.group(1), text), **kw)
    m = re.fullmatch(_X86_MEM, op)
    if m:
        return Arg(kind=DEREF, reg=_x86_reg(m.group(2), text), off=_num(m.group(1)), **kw)
    m = re.fullmatch(_X86_IDX, op)
    if m:
        scale = int(m.group(4) or 1)
        if scale not in (1, 2, 4, 8):
            raise AttachError(f"USDT argument {text!r}: scale {scale}")
        if m.group(2) is None:
            raise AttachError(f"USDT argument {text!r}: an index without a base register "
                              f"is not supported")
        return Arg(kind=DEREF_IDX, reg=_x86_reg(m.group(2), text), off=_num(m.group(1)),
                   index=_x86_reg(m.group(3), text), scale=scale, **kw)
    m = re.fullmatch(_X86_SYM, op)
    if m:
        if _x86_reg(m.group(3), text) != "ip":
            raise AttachError(f"USDT argument {text!r}: a symbol relative to a register "
                              f"other than %rip is not supported")
        return Arg(kind=DEREF, reg="ip", off=_num(m.group(2)), symbol=m.group(1), **kw)
    raise AttachError(f"USDT argument {text!r}: cannot parse this x86_64 operand")


def split_args(argstr):
    """The argument string → one text per argument (spaces separate
    arguments, except inside aarch64's "[sp, 16]")."""
    out, cur, depth = [], "", 0
    for ch in argstr.strip():
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        if ch.isspace() and depth == 0:
            if cur:
                out.append(cur)
            cur = ""
            continue
        cur += ch
    if cur:
        out.append(cur)
    return out


def parse_args(argstr, machine=EM_X86_64):
    """The note's argument string → [Arg]."""
    return [parse_arg(a, machine) for a in split_args(argstr)]
