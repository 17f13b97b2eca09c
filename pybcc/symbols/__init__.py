"""Addresses to names and back: kernel (kallsyms) and user (ELF, maps, perf maps)."""
from .demangle import demangle  # noqa: F401
from .elfsyms import ElfSymbols, Symbol, load as load_elf  # noqa: F401
from .format import UNKNOWN, format_symbol  # noqa: F401
from .kallsyms import KernelSymbols, kernel_symbols, ksym, ksymname  # noqa: F401
from .libpath import find_binary, find_library, resolve_module  # noqa: F401
from .procmaps import Mapping, parse_maps, read_maps  # noqa: F401
from .resolver import (KernelResolver, ProcessSymbols, forget, sym,  # noqa: F401
                       symbol_address, symbol_cache)
