"""ELF symbol → file offset, which is what the kernel's uprobes take.

Function symbols come from pybcc.symbols (a direct, cached reader that also
finds separate debug files and resolves IFUNCs to the implementation the CPU
runs), and data symbols (USDT semaphores) by name.
"""
from ..errors import AttachError
from .. import symbols


def symbol_offset(path, name, functions_only=True):
    """File offset of symbol ``name`` in ELF ``path`` (for uprobes and USDT
    semaphores, which are data: functions_only=False)."""
    if functions_only:
        try:
            return symbols.symbol_address(path, name)[1]
        except LookupError:
            raise AttachError(f"{path} has no function {name} (stripped binary? "
                              f"try an offset)") from None
    return _data_symbol_offset(path, name)


def _data_symbol_offset(path, name):
    from ..symbols import elfsyms
    offset = elfsyms.data_offset(path, name.split("@", 1)[0])
    if offset is None:
        raise AttachError(f"{path} has no symbol {name}")
    return offset


def match_symbols(path, regex):
    """Names of the defined functions of ``path`` matching ``regex`` (re.search
    semantics, as bcc's sym_re), sorted, without duplicates."""
    return sorted({s.name.split("@", 1)[0]
                   for s in symbols.load_elf(path).match(f".*(?:{regex})")})


def address_offset(path, vaddr):
    return symbols.load_elf(path).vaddr_to_offset(vaddr)


def find_binary(name):
    """A path for ``name``: a path as is, a program from $PATH, or a library
    ("c" and "libc.so.6" both give libc)."""
    path = symbols.resolve_module(name, None)
    if path is None:
        raise AttachError(f"cannot find binary or library {name!r} (give a full path)")
    return path
