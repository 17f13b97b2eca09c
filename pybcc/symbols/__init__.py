"""Addresses to names and back: kernel (kallsyms) and user (ELF, maps, perf maps).

Stacks (profile, offcputime, memleak, stackcount)::

    sym(addr, pid, show_module=False, show_offset=False, demangle=True) -> "func+0x12 [libc.so.6]"
    ksym(addr, show_module=False, show_offset=False)                 -> "schedule+0x5 [kernel]"
    symbol_cache(pid).resolve(addr) -> (name or None, offset, module or None)
                                       (pid None or -1: the kernel)

Probes (uprobes, kprobes)::

    symbol_address("c", "getpid", pid=None) -> (path, file offset, link-time address)
    ksymname("schedule") -> address or -1
    kernel_symbols().functions(regex); load_elf(path).match(regex)
    find_library("c" | "libc.so.6" | path, pid=None); find_binary(name)

Unresolvable addresses read "[unknown]", as in bcc.
"""
import importlib

# The function, not its module: importing the submodule would otherwise bind
# the package's "demangle" to the module. It imports nothing heavy.
from .demangle import demangle  # noqa: F401

# name -> (submodule, attribute there). Imported on first use: a tool that
# only needs kernel symbols does not import the ELF reader, the demangler
# (ctypes.util, subprocess) or the process maps.
_WHERE = {
    "ElfSymbols": ("elfsyms", "ElfSymbols"), "Symbol": ("elfsyms", "Symbol"),
    "load_elf": ("elfsyms", "load"),
    "UNKNOWN": ("format", "UNKNOWN"), "format_symbol": ("format", "format_symbol"),
    "KernelSymbols": ("kallsyms", "KernelSymbols"), "kernel_symbols": ("kallsyms", "kernel_symbols"),
    "ksym": ("kallsyms", "ksym"), "ksymname": ("kallsyms", "ksymname"),
    "find_binary": ("libpath", "find_binary"), "find_library": ("libpath", "find_library"),
    "resolve_module": ("libpath", "resolve_module"),
    "Mapping": ("procmaps", "Mapping"), "parse_maps": ("procmaps", "parse_maps"),
    "read_maps": ("procmaps", "read_maps"),
    "KernelResolver": ("resolver", "KernelResolver"), "ProcessSymbols": ("resolver", "ProcessSymbols"),
    "forget": ("resolver", "forget"), "sym": ("resolver", "sym"),
    "symbol_address": ("resolver", "symbol_address"), "symbol_cache": ("resolver", "symbol_cache"),
}
__all__ = sorted(_WHERE) + ["demangle"]
_SUBMODULES = {"debuginfo", "elf", "elfsyms", "format", "ifunc", "kallsyms",
               "kallsyms_memo", "libpath", "perfmap", "procmaps", "resolver"}


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{where[0]}"), where[1])
