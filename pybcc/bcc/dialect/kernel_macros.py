"""Macros of the running kernel that BTF does not carry but bcc programs use
from kernel headers: the kernel's CONFIG_* options (as autoconf.h gives
them) and sizes that vary between kernels, read from the kernel's BTF.
The constant ones live in include/pybcc_bcc.h."""
import functools
import os
import platform
import struct


def _btf_array_size(btf, bt, struct, member, inner=None):
    """Elements of array ``struct.member`` (or of ``member.inner`` when the
    member is a union or struct holding the array), or None."""
    for t in btf.find_all(struct, (bt.STRUCT, bt.UNION)):
        for m in t.members:
            if m.name != member:
                continue
            mt = btf.strip(m.type)
            if inner and mt.kind in (bt.STRUCT, bt.UNION):
                mt = next((btf.strip(x.type) for x in mt.members if x.name == inner), None)
            if mt is not None and mt.kind == bt.ARRAY:
                return mt.nelems
    return None


@functools.lru_cache(maxsize=None)
def defines():
    """#define lines for the running kernel (one string)."""
    out = []
    try:
        from ...kernel.kconfig import kconfig_values
        for name, value in kconfig_values().items():
            if value == "y":
                out.append(f"#define {name} 1")
            elif value == "m":
                out.append(f"#define {name}_MODULE 1")
            elif value and value != "n":
                out.append(f"#define {name} {value}")
    except Exception:   # no config: programs see no CONFIG_ macros, as without headers
        pass
    if platform.machine() == "x86_64":
        # arch/x86's page_64_types.h: the direct map's base without KASLR for
        # 4- and 5-level paging (bcc's profile.py tells kernel from user
        # addresses with them: kernel text lies above both)
        out.append("#define __PAGE_OFFSET_BASE_L4 0xffff888000000000UL")
        out.append("#define __PAGE_OFFSET_BASE_L5 0xff11000000000000UL")
    try:
        for name, value in _kernel_sizes().items():
            if value:
                out.append(f"#undef {name}\n#define {name} {value}")
    except Exception:
        pass
    return "\n".join(out)


def _kernel_sizes():
    """{macro: value} of the sizes read from the kernel's BTF, remembered
    per BTF (parsing it costs seconds per process)."""
    from ...compiler import build
    from . import memo
    # keyed by the BTF's name: the whole vmlinux.h need not exist
    return memo.remembered("kernel-sizes", build.kernel_btf_id(), _btf_sizes, __file__)


def _btf_sizes():
    from ...btf import BTF
    from ...btf import types as bt
    btf = BTF.kernel()
    return {"DNAME_INLINE_LEN": _btf_array_size(btf, bt, "dentry", "d_iname") or
            _btf_array_size(btf, bt, "dentry", "d_shortname", "string"),
            "TASK_COMM_LEN": _btf_array_size(btf, bt, "task_struct", "comm")}


def for_text(text):
    """Defines computed only for programs that use them (they cost a probe)."""
    if "PAGE_OFFSET" in text:
        value = page_offset()
        if value is not None:
            return f"\n#undef PAGE_OFFSET\n#define PAGE_OFFSET {value:#x}UL"
    return ""


@functools.lru_cache(maxsize=None)
def page_offset():
    """Start of the kernel's direct map of physical memory (PAGE_OFFSET), or
    None when it cannot be known. x86_64 randomises it at boot
    (CONFIG_RANDOMIZE_MEMORY): the value is read from the kernel variable
    page_offset_base, whose address kallsyms gives when it lists data
    symbols (CONFIG_KALLSYMS_ALL). arm64: -(1 << VA_BITS)."""
    from ...kernel.kconfig import kconfig_values
    try:
        config = kconfig_values()
    except Exception:
        config = {}
    arch = platform.machine()
    if arch == "x86_64":
        from ... import symbols
        addr = symbols.ksymname("page_offset_base")
        if addr and addr > 0:
            return _read_kernel_u64(addr)
        if config.get("CONFIG_RANDOMIZE_MEMORY") != "y":
            return 0xFFFF888000000000       # the fixed base of 4-level paging
        return None
    if arch == "aarch64" and config.get("CONFIG_ARM64_VA_BITS"):
        return (1 << 64) - (1 << int(config["CONFIG_ARM64_VA_BITS"]))
    return None


def _read_kernel_u64(addr):
    """8 bytes of kernel memory at ``addr``, read by a tiny raw-tracepoint
    program run once with BPF_PROG_TEST_RUN (user space cannot read it:
    no /dev/kmem, and /proc/kcore may be absent). None if that fails."""
    from ... import asm
    from ...kernel import bpf, features
    from ...kernel.uapi import ProgType
    halves = []
    for half in (0, 4):
        insns = [asm.mov64_reg(1, 10), asm.alu64_imm(asm.ADD, 1, -8), asm.mov64_imm(2, 8),
                 asm.st_mem(asm.DW, 10, -8, 0),
                 asm.ld_imm64(3, addr), asm.call_helper(113),    # bpf_probe_read_kernel
                 asm.ldx_mem(asm.W, 0, 10, -8 + half), asm.exit_insn()]
        fd, _ = features.load_program(ProgType.RAW_TRACEPOINT, insns)
        if fd < 0:
            return None
        try:
            retval, _, _ = bpf.prog_test_run(fd, repeat=0)   # raw_tp takes no repeat
        except Exception:
            return None
        finally:
            os.close(fd)
        halves.append(retval & 0xFFFFFFFF)
    value = struct.unpack("<Q", struct.pack("<II", *halves))[0]
    return value or None
