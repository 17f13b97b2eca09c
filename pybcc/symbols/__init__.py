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
from .demangle import demangle  # noqa: F401
from .elfsyms import ElfSymbols, Symbol, load as load_elf  # noqa: F401
from .format import UNKNOWN, format_symbol  # noqa: F401
from .kallsyms import KernelSymbols, kernel_symbols, ksym, ksymname  # noqa: F401
from .libpath import find_binary, find_library, resolve_module  # noqa: F401
from .procmaps import Mapping, parse_maps, read_maps  # noqa: F401
from .resolver import (KernelResolver, ProcessSymbols, forget, sym,  # noqa: F401
                       symbol_address, symbol_cache)
