"""Per-process address <-> name resolution, as bcc's SymbolCache does it.

An address in a process is found in /proc/PID/maps; its mapping gives the
file and the file offset (addr - start + map offset); the file's PT_LOAD
segments turn that offset into the link-time address its symbol table
uses. This one rule covers PIE and non-PIE executables, shared libraries and
the vdso alike. Addresses in anonymous memory go to the JIT's perf map.
"""
import bisect
import os
import time

from . import elfsyms
from .demangle import demangle as _demangle
from .elf import ElfError
from .format import as_str, format_symbol
from .ifunc import implementation_offset
from .kallsyms import kernel_symbols
from .libpath import resolve_module
from .perfmap import PerfMap, perf_map_path
from .procmaps import LazyMaps, is_file_backed, open_path, read_maps_lazily, read_memory

# Reread maps for an address outside every mapping (dlopen since), at most this often.
MAPS_REFRESH_INTERVAL = 0.5


class KernelResolver:
    """The resolver for pid -1: kernel addresses."""

    pid = -1

    def __init__(self):
        self.ksyms = kernel_symbols()

    def resolve(self, addr, demangle=True):
        hit = self.ksyms.lookup(addr)
        return hit if hit else (None, 0, None)

    def resolve_name(self, module, name):
        return self.ksyms.address(name, module if module and module != "kernel" else None)

    def refresh(self):
        self.ksyms.refresh()


class ProcessSymbols:
    """Symbols of one process. Keeps what it read after the process exits, so
    stacks collected before the exit still resolve."""

    def __init__(self, pid):
        self.pid = pid
        self._maps = LazyMaps("")
        self._loaded_at = 0.0
        self._elf = {}          # mapping identity -> ElfSymbols or None (not ELF)
        self._perfmap = None
        self._perfmap_at = 0.0
        self.refresh()

    def refresh(self):
        """Reread /proc/PID/maps; silently keep the old ones if the process is
        gone (a failed read counts as a read: a stack tool's report asks for
        hundreds of addresses of processes that exited, and each miss would
        otherwise try again)."""
        self._loaded_at = time.monotonic()
        try:
            maps = read_maps_lazily(self.pid)
        except (ProcessLookupError, PermissionError):
            return False
        self._maps = maps
        return True

    def mapping(self, addr):
        """The Mapping containing ``addr``, rereading maps once if none does."""
        m = self._find(addr)
        if m is None and time.monotonic() - self._loaded_at > MAPS_REFRESH_INTERVAL:
            if self.refresh():
                m = self._find(addr)
        return m

    def _find(self, addr):
        i = bisect.bisect_right(self._maps.starts, addr) - 1
        m = self._maps[i] if i >= 0 else None
        if m is not None and addr < m.end:
            return m
        return None

    def _symbols(self, m):
        key = (m.path, m.inode, m.dev) if m.inode else (m.path, m.start)
        if key in self._elf:
            return self._elf[key]
        syms = None
        try:
            if m.path == "[vdso]":
                image = read_memory(self.pid, m.start, m.end - m.start)
                if image:
                    syms = elfsyms.ElfSymbols("[vdso]", image=image)
            elif is_file_backed(m):
                syms = elfsyms.load(m.path, open_path(self.pid, m))
        except (OSError, ElfError, ValueError):
            syms = None
        self._elf[key] = syms
        return syms

    def _perf_map(self):
        """The JIT's perf map, reread when it changed: checked at most every
        MAPS_REFRESH_INTERVAL, as the maps are."""
        now = time.monotonic()
        if self._perfmap is None:
            self._perfmap = PerfMap(perf_map_path(self.pid))
        elif now - self._perfmap_at > MAPS_REFRESH_INTERVAL:
            self._perfmap.reload()
        else:
            return self._perfmap
        self._perfmap_at = now
        return self._perfmap

    def resolve(self, addr, demangle=True):
        """(name, offset, module). Unresolved: name None; the offset is then the
        file offset inside module, when the address is in a file."""
        m = self.mapping(addr)
        if m is not None and (is_file_backed(m) or m.path == "[vdso]"):
            file_off = addr - m.start + m.offset
            syms = self._symbols(m)
            if syms is not None:
                hit = syms.lookup(syms.offset_to_vaddr(file_off))
                if hit:
                    name = _demangle(hit[0]) if demangle else hit[0]
                    return name, hit[1], m.path
            return None, file_off, m.path
        pm = self._perf_map()
        hit = pm.lookup(addr)
        if hit:
            name = _demangle(hit[0]) if demangle else hit[0]
            return name, hit[1], os.path.basename(pm.path)
        return None, 0, m.path if m is not None and m.path else None

    def resolve_name(self, module, name):
        """Run-time address of ``name`` in ``module`` (path or short name) in this
        process, or None."""
        module, name = as_str(module), as_str(name)
        target = resolve_module(module, self.pid) if module else None
        if module and target is None:
            return None
        for m in self._maps:
            if not is_file_backed(m):
                continue
            if target and m.path != target and not _same_file(open_path(self.pid, m), target):
                continue
            syms = self._symbols(m)
            sym = syms.find(name) if syms else None
            if sym is None:
                continue
            # Place the symbol through the mapping that covers its file offset.
            for mm in self._maps:
                if mm.path == m.path and mm.inode == m.inode and \
                        mm.offset <= sym.offset < mm.offset + (mm.end - mm.start):
                    return mm.start + sym.offset - mm.offset
        return None


def _same_file(a, b):
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


_caches = {}


def symbol_cache(pid):
    """The resolver for ``pid`` (kernel for None or a negative pid), kept per pid."""
    if pid is None or pid < 0:
        pid = -1
    r = _caches.get(pid)
    if r is None:
        r = KernelResolver() if pid == -1 else ProcessSymbols(pid)
        _caches[pid] = r
    return r


def forget(pid):
    """Drop the resolver of a pid (it exited, or its number was reused)."""
    _caches.pop(pid, None)


def sym(addr, pid, show_module=False, show_offset=False, demangle=True):
    """bcc's BPF.sym: the text for one address of a stack."""
    name, offset, module = symbol_cache(pid).resolve(addr, demangle)
    return format_symbol(name, offset, module, show_module, show_offset)


def symbol_address(module, name, pid=None, resolve_ifunc=True):
    """bcc's uprobe name resolution: (path, file offset, link-time address) of
    ``name`` in ``module`` (short name, soname, path or program on PATH).
    For an IFUNC (glibc's memcpy, strlen, ...) the offset is that of the
    implementation this CPU uses, which is where a uprobe fires.
    Raises LookupError with what was looked for when not found."""
    module, name = as_str(module), as_str(name)
    path = resolve_module(module, pid) if module else None
    if path is None:
        raise LookupError(f"can't find library or program {module!r}")
    sym_ = elfsyms.find(path, name)
    if sym_ is None:
        raise LookupError(f"can't find symbol {name!r} in {path}")
    if sym_.ifunc and resolve_ifunc:
        offset = implementation_offset(path, name)
        if offset is not None:
            return path, offset, elfsyms.load(path).offset_to_vaddr(offset)
    return path, sym_.offset, sym_.vaddr
