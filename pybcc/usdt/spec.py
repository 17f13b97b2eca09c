"""Args → the bytes of one struct pybcc_usdt_spec (see <bpf/usdt.bpf.h>).

Register offsets in struct pt_regs come from the running kernel's BTF (kept
on disk per boot, since parsing the BTF costs about a second), with the
fixed x86_64/aarch64 layouts when there is no BTF.
"""
import os
import struct

from ..errors import AttachError
from . import args as A

MAX_ARGS = 12
ARG = struct.Struct("<qHHHBBBB6x")        # struct pybcc_usdt_arg (24 bytes)
TAIL = struct.Struct("<qII")              # cookie, arg_cnt, pad
SPEC_SIZE = ARG.size * MAX_ARGS + TAIL.size

_X86_FIXED = {n: 8 * i for i, n in enumerate(
    "r15 r14 r13 r12 bp bx r11 r10 r9 r8 ax cx dx si di orig_ax ip cs flags sp ss".split())}
_ARM64_FIXED = dict({f"regs[{i}]": 8 * i for i in range(31)}, sp=248, pc=256)

_offsets = None


def _from_btf():
    from ..btf import BTF
    btf = BTF.kernel()
    t = btf.find("pt_regs", 4)     # BTF_KIND_STRUCT
    return {m.name: m.bit_offset // 8 for m in t.members if m.name}


def pt_regs_offsets():
    """{pt_regs member: byte offset} for the running kernel."""
    global _offsets
    if _offsets is not None:
        return _offsets
    arch = os.uname().machine
    if arch == "aarch64":
        _offsets = dict(_ARM64_FIXED)    # regs[31] then sp, pc: fixed by the arm64 ABI
        return _offsets
    path = None
    try:
        from .. import cache
        tag = cache.kernel_tag()
        if tag:
            path = f"{cache.private_dir('usdt')}/{tag}-pt_regs.memo"
            stored = cache.read_memo(path)
            if isinstance(stored, dict) and stored:
                _offsets = stored
                return _offsets
    except Exception:
        path = None
    try:
        _offsets = _from_btf()
    except Exception:
        _offsets = dict(_X86_FIXED)
    if path:
        try:
            from .. import cache
            cache.write_memo(path, _offsets)
        except Exception:
            pass
    return _offsets


def _reg_off(reg, arg):
    offs = pt_regs_offsets()
    if reg not in offs:
        raise AttachError(f"USDT argument {arg.text!r}: register {reg} is not in this "
                          f"kernel's struct pt_regs")
    return offs[reg]


def encode_arg(arg, pc=0, symbols=None):
    """One Arg → 24 bytes. ``pc`` and ``symbols`` (name → link-time address)
    resolve "sym(%rip)": at the probe, ip is pc's run-time address, so the
    variable is at ip + (sym - pc)."""
    off = arg.off
    if arg.symbol is not None:
        addr = (symbols or {}).get(arg.symbol)
        if addr is None:
            raise AttachError(f"USDT argument {arg.text!r}: symbol {arg.symbol} is not in "
                              f"the binary's symbol table")
        off += addr - pc
    reg_off = _reg_off(arg.reg, arg) if arg.reg else 0
    idx_off = _reg_off(arg.index, arg) if arg.index else 0
    shift = {1: 0, 2: 1, 4: 2, 8: 3}[arg.scale]
    return ARG.pack(off, arg.kind, reg_off, idx_off, shift, arg.size, int(arg.signed),
                    64 - 8 * arg.size)


def encode_spec(arg_list, cookie=0, pc=0, symbols=None):
    """[Arg] → the bytes of struct pybcc_usdt_spec."""
    if len(arg_list) > MAX_ARGS:
        raise AttachError(f"USDT probe has {len(arg_list)} arguments; at most {MAX_ARGS} "
                          f"can be read")
    body = b"".join(encode_arg(a, pc, symbols) for a in arg_list)
    body = body.ljust(ARG.size * MAX_ARGS, b"\0")
    cookie &= (1 << 64) - 1
    if cookie >= 1 << 63:
        cookie -= 1 << 64       # stored as a signed long long
    return body + TAIL.pack(cookie, len(arg_list), 0)


def describe(arg):
    """The BPF-readable form of an Arg as a dict (for listings and tests)."""
    d = {"type": A.KIND_NAMES[arg.kind], "size": arg.size, "signed": arg.signed}
    if arg.kind == A.CONST:
        d["value"] = arg.off
    else:
        d["reg"] = arg.reg
        d["reg_offset"] = _reg_off(arg.reg, arg)
        if arg.kind != A.REG:
            d["offset"] = arg.off
        if arg.index:
            d.update(index=arg.index, index_offset=_reg_off(arg.index, arg), scale=arg.scale)
        if arg.symbol:
            d["symbol"] = arg.symbol
    return d
