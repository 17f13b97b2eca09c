"""Kernel symbols from /proc/kallsyms: address -> name and name -> address.

The file has ~100-200k lines; it is read once, on first use, and kept as a
sorted address list for bisect plus the raw lines, whose names are sliced out
only when asked for. The name index is built on the first name lookup.
Without CAP_SYSLOG every address reads as zero: that is reported, not guessed.
"""
import bisect

from ..errors import BPFError
from .format import as_str, format_symbol

KALLSYMS = "/proc/kallsyms"


class KernelSymbols:
    def __init__(self, path=KALLSYMS):
        self.path = path
        self._lines = None
        self._addrs = None
        self._by_name = None

    def _load(self):
        with open(self.path, "rb") as f:
            data = f.read()
        lines = data.splitlines()
        width = data.find(b" ")
        if width <= 0:
            raise BPFError(f"{self.path}: empty or unreadable")
        addrs = [int(line[:width], 16) for line in lines]
        if addrs and not any(addrs[:1000]):
            raise BPFError(f"{self.path} shows zero addresses: reading kernel symbols needs "
                           "root (CAP_SYSLOG) and kernel.kptr_restrict < 2")
        if any(addrs[i] > addrs[i + 1] for i in range(len(addrs) - 1)):
            order = sorted(range(len(addrs)), key=addrs.__getitem__)
            lines = [lines[i] for i in order]
            addrs = [addrs[i] for i in order]
        self._width = width
        self._lines = lines
        self._addrs = addrs

    def refresh(self):
        """Forget the table: BPF programs and modules loaded later appear in it."""
        self._lines = self._addrs = self._by_name = None

    def _entry(self, i):
        """(name, type, module or None) of line i: "addr t name\\t[module]"."""
        line = self._lines[i]
        rest = line[self._width + 3:]
        name, _, mod = rest.partition(b"\t")
        module = mod.strip(b"[]").decode() if mod else None
        return name.decode(), chr(line[self._width + 1]), module

    def __len__(self):
        if self._addrs is None:
            self._load()
        return len(self._addrs)

    def lookup(self, addr):
        """(name, offset, module) for a kernel address; module is "kernel" for
        the core image. None below the first symbol."""
        if self._addrs is None:
            self._load()
        i = bisect.bisect_right(self._addrs, addr) - 1
        if i < 0:
            return None
        name, _, module = self._entry(i)
        return name, addr - self._addrs[i], module or "kernel"

    def address(self, name, module=None):
        """Address of a symbol name, or None. Several static functions may
        share a name; the first (lowest address) is returned."""
        name, module = as_str(name), as_str(module)
        if self._by_name is None:
            if self._addrs is None:
                self._load()
            skip = self._width + 3
            names = [line[skip:].partition(b"\t")[0].decode() for line in self._lines]
            # Reversed so the lowest address wins among same-named statics.
            index = dict(zip(reversed(names), range(len(names) - 1, -1, -1)))
            for i, line in enumerate(self._lines):
                if b"\t" in line:
                    n, _, mod = self._entry(i)
                    index.setdefault((n, mod), i)
            self._by_name = index
        i = self._by_name.get((name, module) if module else name)
        return None if i is None else self._addrs[i]

    def type_of(self, name):
        """The kallsyms type letter ("T", "t", "W", ...) of a symbol, or None."""
        if self.address(name) is None:
            return None
        return self._entry(self._by_name[name])[1]


_default = None


def kernel_symbols():
    """The process-wide table, loaded on first lookup."""
    global _default
    if _default is None:
        _default = KernelSymbols()
    return _default


def ksym(addr, show_module=False, show_offset=False):
    """bcc's BPF.ksym: "name", "name+0x1a", "name [kernel]"; "[unknown]" if unresolvable."""
    hit = kernel_symbols().lookup(addr)
    if hit is None:
        return format_symbol(None, 0, None, show_module, show_offset)
    return format_symbol(hit[0], hit[1], hit[2], show_module, show_offset)


def ksymname(name):
    """bcc's BPF.ksymname: the address of a kernel symbol, -1 when absent."""
    addr = kernel_symbols().address(as_str(name))
    return -1 if addr is None else addr
