"""bcc's SymbolCache: one process's (or, for a negative pid, the kernel's)
address → symbol resolver, with bcc's return types (bytes names and paths)."""
from .. import symbols
from .text import as_bytes, as_str


class SymbolCache:
    def __init__(self, pid):
        self._resolver = symbols.symbol_cache(pid if pid >= 0 else -1)

    def resolve(self, addr, demangle=True):
        """(b"name", offset in it, b"module"). Unresolved: (None, offset in
        the module, b"module") when the module is known, else (None, addr, None)."""
        name, offset, module = self._resolver.resolve(addr, demangle)
        if name is None:
            if module and offset:
                return None, offset, as_bytes(module)
            return None, addr, None
        return as_bytes(name), offset, as_bytes(module)

    def resolve_name(self, module, name):
        """Address of ``name`` in ``module`` (b"" or None: any), -1 if absent."""
        addr = self._resolver.resolve_name(as_str(module) or None, as_str(name))
        return -1 if addr is None or addr < 0 else addr
