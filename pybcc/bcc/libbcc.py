"""bcc.libbcc: the entries of bcc's C library that scripts call directly,
emulated on pybcc (there is no libbcc.so behind them).

    from bcc.libbcc import lib, bcc_symbol, bcc_symbol_option
    lib.bpf_table_fd(b.module, b"sock_hash")
    lib.bcc_resolve_symname(b"c", b"strlen", 0, 0, ct.byref(opt), ct.byref(sym))

``b.module`` is the BPF object itself. Provided:
  module:  bpf_num_functions, bpf_function_name, bpf_function_start,
           bpf_function_size, bpf_num_tables, bpf_table_name, bpf_table_id,
           bpf_table_fd, bpf_table_fd_id, bpf_table_type, bpf_table_type_id,
           bpf_table_max_entries, bpf_table_max_entries_id, bpf_table_flags,
           bpf_table_flags_id, bpf_table_key_size, bpf_table_leaf_size,
           bpf_module_license, bpf_module_kern_version,
           bpf_module_rw_engine_enabled
  symbols: bcc_resolve_symname, bcc_symcache_new, bcc_symcache_resolve,
           bcc_symcache_resolve_no_demangle, bcc_symcache_resolve_name,
           bcc_free_symcache, bcc_symbol_free_demangle_name
  misc:    bpf_close_perf_event_fd, bcc_procutils_which_so
  USDT:    bcc_usdt_foreach, bcc_usdt_get_location, bcc_usdt_get_argument
           (structs bcc_usdt, bcc_usdt_location, bcc_usdt_argument; libbcc_usdt.py)
Anything else raises AttributeError naming the entry.
"""
import ctypes as ct
import os

from .. import symbols
from . import libbcc_usdt
from .libbcc_usdt import (BCC_USDT_ARGUMENT_FLAGS, bcc_usdt, bcc_usdt_argument,  # noqa: F401
                          bcc_usdt_location)
from .text import as_bytes, as_str

STT_GNU_IFUNC = 10


class bcc_symbol(ct.Structure):
    _fields_ = [("name", ct.c_char_p), ("demangle_name", ct.c_char_p),
                ("module", ct.POINTER(ct.c_char)), ("offset", ct.c_ulonglong)]


class bcc_symbol_option(ct.Structure):
    _fields_ = [("use_debug_file", ct.c_int), ("check_debug_file_crc", ct.c_int),
                ("lazy_symbolize", ct.c_int), ("use_symbol_type", ct.c_uint)]


class bcc_stacktrace_build_id(ct.Structure):
    _fields_ = [("status", ct.c_uint32), ("build_id", ct.c_ubyte * 20),
                ("u", ct.c_ulonglong)]


def _target(ref):
    """The object behind ct.byref(x) or a pointer (or x itself)."""
    if hasattr(ref, "_obj"):
        return ref._obj
    if hasattr(ref, "contents"):
        return ref.contents
    return ref


def _name_at(names, i):
    """names[i] as bytes, or None (libbcc's NULL) past either end."""
    return as_bytes(names[i]) if 0 <= i < len(names) else None


class _Lib:
    def __init__(self):
        self._keep = {}          # buffers whose addresses were handed out
        self._caches = {}

    def __getattr__(self, name):
        raise AttributeError(f"bcc.libbcc.lib.{name} is not emulated by pybcc")

    def _keep_bytes(self, data):
        buf = ct.create_string_buffer(bytes(data), len(data) or 1)
        self._keep[ct.addressof(buf)] = buf
        return ct.addressof(buf)

    def _string(self, value):
        buf = ct.c_char_p(as_bytes(value))
        self._keep[id(buf)] = buf
        return buf

    # --- the module (a BPF object) ----------------------------------------------------

    @staticmethod
    def _functions(module):
        return sorted(module._coll.spec.programs)

    def bpf_num_functions(self, module):
        return len(self._functions(module))

    def bpf_function_name(self, module, i):
        return _name_at(self._functions(module), i)

    def bpf_function_start(self, module, name):
        try:
            return self._keep_bytes(module.dump_func(name))
        except Exception:
            return None

    def bpf_function_size(self, module, name):
        try:
            return len(module.dump_func(name))
        except Exception:
            return 0

    @staticmethod
    def _tables(module):
        return sorted(module._user_tables())

    def bpf_num_tables(self, module):
        return len(self._tables(module))

    def bpf_table_name(self, module, i):
        return _name_at(self._tables(module), i)

    def bpf_table_id(self, module, name):
        names = self._tables(module)
        name = as_str(name)
        return names.index(name) if name in names else -1

    def _table(self, module, name_or_id):
        if isinstance(name_or_id, int):
            name_or_id = self._tables(module)[name_or_id]
        return module[as_str(name_or_id)]

    def bpf_table_fd(self, module, name):
        try:
            return self._table(module, name).map_fd
        except (KeyError, IndexError):
            return -1

    bpf_table_fd_id = bpf_table_fd

    def bpf_table_type(self, module, name):
        return self._table(module, name).ttype

    bpf_table_type_id = bpf_table_type

    def bpf_table_max_entries(self, module, name):
        return self._table(module, name).max_entries

    bpf_table_max_entries_id = bpf_table_max_entries

    def bpf_table_flags(self, module, name):
        return getattr(self._table(module, name), "flags", 0)

    bpf_table_flags_id = bpf_table_flags

    def bpf_table_key_size(self, module, name):
        return ct.sizeof(self._table(module, name).Key)

    def bpf_table_leaf_size(self, module, name):
        return ct.sizeof(self._table(module, name).Leaf)

    @staticmethod
    def bpf_module_license(module):
        return b"GPL"

    @staticmethod
    def bpf_module_kern_version(module):
        major, minor, patch = (int(x) for x in
                               (os.uname().release.split("-")[0].split(".") + ["0"])[:3])
        return (major << 16) | (minor << 8) | min(patch, 255)

    @staticmethod
    def bpf_module_rw_engine_enabled():
        return 1        # key_sprintf/leaf_scanf & co work (bcc.ctext)

    # --- symbols ----------------------------------------------------------------------

    def bcc_resolve_symname(self, module, symname, addr, pid, option, sym_ref):
        """Fill bcc_symbol with the symbol's module path and file offset (the
        offset a uprobe takes; ``addr`` is added); 0, or -1 if not found."""
        sym = _target(sym_ref)
        try:
            path, offset, _ = symbols.symbol_address(as_str(module), as_str(symname),
                                                     pid or None, resolve_ifunc=False)
        except LookupError:
            return -1
        sym.name = as_bytes(symname)
        sym.module = ct.cast(self._string(path), ct.POINTER(ct.c_char))
        sym.offset = offset + (addr or 0)
        return 0

    def bcc_symcache_new(self, pid, option=None):
        from .symcache import SymbolCache
        cache = SymbolCache(pid)
        self._caches[id(cache)] = cache
        return id(cache)

    def bcc_free_symcache(self, handle, pid=None):
        self._caches.pop(handle, None)

    def _resolve(self, handle, addr, sym_ref, demangle):
        sym = _target(sym_ref)
        name, offset, module = self._caches[handle].resolve(addr, demangle)
        sym.offset = offset
        sym.module = ct.cast(self._string(module), ct.POINTER(ct.c_char)) if module else None
        if name is None:
            return -1
        sym.name = name
        sym.demangle_name = name
        return 0

    def bcc_symcache_resolve(self, handle, addr, sym_ref):
        return self._resolve(handle, addr, sym_ref, True)

    def bcc_symcache_resolve_no_demangle(self, handle, addr, sym_ref):
        return self._resolve(handle, addr, sym_ref, False)

    def bcc_symcache_resolve_name(self, handle, module, name, addr_ref):
        addr = self._caches[handle].resolve_name(module, name)
        if addr < 0:
            return -1
        _target(addr_ref).value = addr
        return 0

    @staticmethod
    def bcc_symbol_free_demangle_name(sym_ref):
        return None

    # --- misc -------------------------------------------------------------------------

    @staticmethod
    def bpf_close_perf_event_fd(fd):
        try:
            os.close(fd)
            return 0
        except OSError:
            return -1

    @staticmethod
    def bcc_procutils_which_so(libname, pid):
        return as_bytes(symbols.find_library(as_str(libname), pid or None))

    # --- USDT (libbcc_usdt.py) ----------------------------------------------------------

    @staticmethod
    def bcc_usdt_foreach(context, callback):
        libbcc_usdt.foreach(context, callback)

    @staticmethod
    def bcc_usdt_get_location(context, provider, name, index, location_ref):
        return libbcc_usdt.get_location(context, provider, name, index, _target(location_ref))

    @staticmethod
    def bcc_usdt_get_argument(context, provider, name, loc_index, arg_index, argument_ref):
        return libbcc_usdt.get_argument(context, provider, name, loc_index, arg_index,
                                        _target(argument_ref))


lib = _Lib()
