"""The function symbols of one ELF file (executable, shared library or vdso).

Symbols come from .symtab and .dynsym; when the file is stripped, from its
separate debug file (build-id or .gnu_debuglink) or, failing that, from the
xz-compressed MiniDebugInfo in .gnu_debugdata (Fedora). Addresses are the
file's link-time virtual addresses; the PT_LOAD segments translate them to
and from file offsets, which is what uprobes and /proc/PID/maps speak.
"""
import os
import re
import stat
from array import array
from collections import OrderedDict, namedtuple

from . import debuginfo, elfsyms_memo
from .preadarray import bisect_right
from .format import as_str
from .elf import (STB_GLOBAL, STB_WEAK, STT_FUNC, STT_GNU_IFUNC, ElfError, ElfFile,
                  HiddenVersions, hidden_versions)

# ifunc: the symbol is a GNU indirect function, i.e. the resolver that picks
# an implementation at load time (see ifunc.py), not the code that runs.
Symbol = namedtuple("Symbol", "name vaddr size offset ifunc", defaults=(False,))

_FUNC_TYPES = (STT_FUNC, STT_GNU_IFUNC)
_BIND_RANK = {STB_GLOBAL: 0, STB_WEAK: 1}


def _rank(name, bind):
    # Among aliases at one address show the least-underscored, exported name:
    # "getpid" rather than the global "__getpid" or the local "__GI___getpid".
    return (len(name) - len(name.lstrip("_")), _BIND_RANK.get(bind, 2), len(name), name)


def _collect(elf, entries, ifuncs, named=None):
    """Append (value, size, bind, is_default_version, name) per function
    (called ``named`` or "named@version" only, if given); add the addresses
    of IFUNCs to ``ifuncs``."""
    if named is None and isinstance(entries, _ByAddress):
        entries.collect(elf, ifuncs)
        return
    for secname in (".symtab", ".dynsym"):
        hidden = () if secname != ".dynsym" else \
            hidden_versions(elf) if named is None else HiddenVersions(elf)
        for index, name, value, size, typ, bind, _ in elf.symbols(elf.section(secname), _FUNC_TYPES,
                                                                  named):
            if typ == STT_GNU_IFUNC:
                ifuncs.add(value)
            if name:
                # Default version: plain names and "f@@V"; "f@V" and hidden
                # .dynsym versions are compatibility copies.
                default = index not in hidden and (b"@" not in name or b"@@" in name)
                entries.append((value, size, bind, default, name))


def _preference(bind, default):
    """Lower wins a name: exported definitions and default versions over
    compatibility versions and local statics of the same name."""
    return _BIND_RANK.get(bind, 2) + (0 if default else 4)


class _ByAddress:
    """Takes entries as they are read and keeps, per address, the symbol
    shown for it: (size, name, bind), the widest, then the nicest name."""

    def __init__(self):
        self.by_addr = {}

    def append(self, entry):
        addr, size, bind, _, bname = entry
        self._keep(addr, size, bname.decode("utf-8", "replace"), bind)

    def _keep(self, addr, size, name, bind):
        cur = self.by_addr.get(addr)
        if cur is None or cur[1] != name and \
                (-size, _rank(name, bind)) < (-cur[0], _rank(cur[1], cur[2])):
            self.by_addr[addr] = (size, name, bind)

    def collect(self, elf, ifuncs):
        """_collect's entries of ``elf``, each kept as append keeps it, in
        one loop and without the versions, which an address table does not
        use (a first table 20-40 % faster: libLLVM 143 -> 112 ms, libc 24 -> 18)."""
        keep = self._keep
        for secname in (".symtab", ".dynsym"):
            for _, bname, addr, size, typ, bind, _ in elf.symbols(elf.section(secname), _FUNC_TYPES):
                if typ == STT_GNU_IFUNC:
                    ifuncs.add(addr)
                if bname:
                    keep(addr, size, bname.decode("utf-8", "replace"), bind)


def _name_index(entries):
    names = {}     # name -> (address, size, preference)
    for addr, size, bind, default, bname in entries:
        name = bname.decode("utf-8", "replace")
        pref = _preference(bind, default)
        old = names.get(name)
        if old is None or pref < old[2]:
            names[name] = (addr, size, pref)
        if "@" in name:
            base = name.split("@", 1)[0]
            old = names.get(base)
            if old is None or pref < old[2]:
                names[base] = (addr, size, pref)
    return {k: (v[0], v[1]) for k, v in names.items()}


class ElfSymbols:
    """Function symbols of one file, sorted for address lookup and indexed by name."""

    def __init__(self, path, open_path=None, image=None):
        """``path`` is the name to report; the bytes come from ``open_path``
        (default ``path``) or, for memory images such as the vdso, ``image``."""
        self.path = path
        self._open_path, self._image = open_path, image
        self._index_memo = None
        self._ifuncs = set()
        st = os.stat(open_path or path) if image is None else None
        if st is None or not self._from_memo(st):
            self._build(self._entries(_ByAddress(), first=True).by_addr)
            if st is not None:
                elfsyms_memo.store(st, self._addrs, self._sizes, self._names, self._info())

    def _info(self):
        # "file": which file the memo is of, so a cache sweep can drop it once
        # that file is gone or changed (pybcc/cache_sweep.py). Paths are kept
        # as seen inside the process's root, not through /proc/PID/root: the
        # process they were first read through soon exits, the file stays.
        return {"file": _inside_root(self._open_path or self.path),
                "elf_type": self.elf_type, "build_id": self.build_id, "loads": self.loads,
                "debug_file": _inside_root(self.debug_file), "stripped": self._stripped,
                "debuglink": self._debuglink, "debug_sig": _signature(self.debug_file)}

    def _from_memo(self, st):
        """The address table from the file's memo (elfsyms_memo), if there is one."""
        found = elfsyms_memo.load(st)
        if found is None:
            return False
        self._addrs, self._sizes, self._names, info = found
        try:
            self.elf_type, self.build_id = info["elf_type"], info["build_id"]
            self.loads = [tuple(seg) for seg in info["loads"]]
            debug_file = info["debug_file"]
            # (through the root of the process this table is read for now)
            self.debug_file = debug_file and _debug_root(self._open_path or self.path) + debug_file
            if not info["stripped"] or self._same_debug_file(info):
                return True
        except (KeyError, TypeError, ValueError):
            pass
        self._names.close()     # the table is built again
        return False

    def _same_debug_file(self, info):
        """Whether a stripped file's separate debug file is still the one
        (or still none) the memo's table was read with: one is installed
        or removed apart from the file."""
        if self.debug_file:
            return _signature(self.debug_file) == info["debug_sig"]
        path = self._open_path or self.path
        link = tuple(info["debuglink"]) if info["debuglink"] else None
        return debuginfo.find_debug_file(path, self.build_id, link, _debug_root(path)) is None

    def _entries(self, entries, first=False):
        """Append (value, size, bind, is_default_version, name) of every
        function to ``entries``, and return it; the first time, also read
        the file's type, build id and segments."""
        self.debug_file = None
        if self._image is not None:
            elf = ElfFile(self._image)
        else:
            elf = ElfFile.open(self._open_path or self.path)
        try:
            if first:
                self.elf_type = elf.type
                self.build_id = elf.build_id()
                self.loads = [(s.vaddr, s.offset, s.filesz, s.memsz) for s in elf.loads()]
            self._ifuncs = set()
            self._collect(elf, entries)
            self._stripped = elf.section(".symtab") is None
            self._debuglink = elf.debuglink() if self._stripped else None
            if self._stripped and self._image is None:
                self._add_separate_debug(elf, self._open_path or self.path, entries)
        finally:
            elf.close()
        return entries

    def _collect(self, elf, entries):
        _collect(elf, entries, self._ifuncs)

    def _add_separate_debug(self, elf, path, entries):
        dbg = debuginfo.find_debug_file(path, self.build_id, self._debuglink, _debug_root(path))
        if dbg:
            try:
                with ElfFile.open(dbg) as d:
                    self._collect(d, entries)
                self.debug_file = dbg
                return
            except (OSError, ElfError):
                pass
        mini = elf.section_data(elf.section(".gnu_debugdata"))
        if mini:
            import lzma     # (MiniDebugInfo only)
            try:
                self._collect(ElfFile(lzma.decompress(mini)), entries)
            except (lzma.LZMAError, ElfError):
                pass

    def _build(self, by_addr):
        """The address table (what stacks need). The name index, which only
        attaching by name or pattern needs, is built on first use: for a
        large C++ library it would double the memory a stack tool holds."""
        order = sorted(by_addr)
        self._addrs = array("Q", order)
        self._sizes = array("Q", [by_addr[a][0] for a in order])
        self._names = [by_addr[a][1] for a in order]

    @property
    def _index(self):
        """name -> (address, size): the symbol a name means (see _preference)."""
        if self._index_memo is None:
            self._index_memo = _name_index(self._entries([]))
        return self._index_memo

    def __len__(self):
        return len(self._addrs)

    def lookup(self, vaddr):
        """(name, offset into it) of the function containing ``vaddr``, or None."""
        i = bisect_right(self._addrs, vaddr) - 1
        if i < 0:
            return None
        if self._sizes[i] == 0:  # assembly labels often have no size: take the nearest
            return self._names[i], vaddr - self._addrs[i]
        # A few steps back finds an enclosing function around a nested label.
        for j in range(i, max(i - 8, -1), -1):
            start, size = self._addrs[j], self._sizes[j]
            if start <= vaddr < start + size:
                return self._names[j], vaddr - start
        return None

    def find(self, name):
        """The Symbol called ``name`` ("getpid", or versioned "memcpy@GLIBC_2.2.5"), or None."""
        name = as_str(name)
        hit = self._index.get(name)
        if hit is None:
            return None
        return Symbol(name, hit[0], hit[1], self.vaddr_to_offset(hit[0]), hit[0] in self._ifuncs)

    def match(self, pattern):
        """Symbols whose name matches the regular expression (re.match, as
        bcc's sym_re), one per address."""
        rx = re.compile(pattern)
        seen = set()
        out = []
        for name, (addr, size) in self._index.items():
            if addr not in seen and rx.match(name):
                seen.add(addr)
                out.append(Symbol(name, addr, size, self.vaddr_to_offset(addr), addr in self._ifuncs))
        return sorted(out, key=lambda s: s.vaddr)

    def vaddr_to_offset(self, vaddr):
        """File offset of a link-time address: what a uprobe is attached at."""
        return _vaddr_to_offset(self.loads, vaddr)

    def offset_to_vaddr(self, offset):
        """Link-time address of a file offset (from /proc/PID/maps)."""
        for seg_vaddr, seg_off, filesz, _ in self.loads:
            if seg_off <= offset < seg_off + filesz:
                return offset - seg_off + seg_vaddr
        return offset


def _debug_root(path):
    """The /proc/PID/root a path goes through, where debug files are looked up."""
    m = re.match(r"(/proc/\d+/root)/", path)
    return m.group(1) if m else ""


def _inside_root(path):
    """``path`` without the /proc/PID/root it goes through, if any."""
    return path and path[len(_debug_root(path)):]


def _signature(path):
    if not path:
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]


def _vaddr_to_offset(loads, vaddr):
    for seg_vaddr, seg_off, filesz, _ in loads:
        if seg_vaddr <= vaddr < seg_vaddr + filesz:
            return vaddr - seg_vaddr + seg_off
    return vaddr  # no segments (relocatable object): addresses are offsets


_CACHE = OrderedDict()
_CACHE_MAX = 256


def _key(path, open_path):
    st = os.stat(open_path or path)
    if not stat.S_ISREG(st.st_mode):  # mapped devices (/dev/dri, ...): never open them
        raise ElfError(f"{path}: not a regular file")
    return (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size)


_FOUND = {}     # (file key, name) -> Symbol or None, from find()


def find(path, name, open_path=None):
    """load(path).find(name) without building the whole table when it is not
    loaded yet: attaching a uprobe to one function of a large binary reads
    only the symbol records of that name. Answers are kept per file and
    name: a tool asks for one name several times (deadlock: which binary
    defines it, then each attach), and each ask reads the whole symbol table."""
    name = as_str(name)
    key = (_key(path, open_path), name)
    if key not in _FOUND:
        _FOUND[key] = _find(path, name, open_path, key[0])
    return _FOUND[key]


def _find(path, name, open_path, file_key):
    syms = _CACHE.get(file_key)
    if syms is not None and syms._index_memo is not None:    # (a loaded table has no name index
        return syms.find(name)                                # until something asks by name)
    entries, ifuncs = [], set()
    with ElfFile.open(open_path or path) as elf:
        loads = [(s.vaddr, s.offset, s.filesz, s.memsz) for s in elf.loads()]
        _collect(elf, entries, ifuncs, name.encode())
        best = _best(entries)
        if elf.section(".symtab") is None and (best is None or best[2]):
            # stripped, and no exported default: its debug symbols may know better
            dbg = debuginfo.find_debug_file(open_path or path, elf.build_id(), elf.debuglink(),
                                            _debug_root(open_path or path))
            if dbg is not None:
                if not _collect_debug(dbg, entries, ifuncs, name.encode()):
                    return load(path, open_path).find(name)
                best = _best_flagging_ifunc(elf, entries, ifuncs)
            elif elf.section(".gnu_debugdata") is not None:
                return load(path, open_path).find(name)     # MiniDebugInfo: read with the table
    if best is None:
        return None
    offset = _vaddr_to_offset(loads, best[0])
    return Symbol(name, best[0], best[1], offset, best[0] in ifuncs)


def _best(entries):
    """(address, size, preference) of the first of the most preferred, as
    _name_index chooses; None when there are none."""
    best = None
    for addr, size, bind, default, _ in entries:
        pref = _preference(bind, default)
        if best is None or pref < best[2]:
            best = (addr, size, pref)
    return best


def _collect_debug(dbg, entries, ifuncs, named):
    """_collect from the separate debug file ``dbg``, and flag the address
    then chosen if an IFUNC of any name is there, as the whole table would
    (a resolver's local alias); false if unreadable."""
    try:
        with ElfFile.open(dbg) as d:
            _collect(d, entries, ifuncs, named)
            _best_flagging_ifunc(d, entries, ifuncs)
        return True
    except (OSError, ElfError):
        return False


def _best_flagging_ifunc(elf, entries, ifuncs):
    """_best(entries), its address added to ``ifuncs`` when an IFUNC of any
    name sits there in ``elf`` (a resolver's local alias), as the whole
    table would flag it."""
    best = _best(entries)
    if best is not None and best[0] not in ifuncs and _ifunc_at(elf, best[0]):
        ifuncs.add(best[0])
    return best


def _ifunc_at(elf, vaddr):
    """Whether an IFUNC symbol of any name sits at ``vaddr`` in the ELF file."""
    return any(True for secname in (".symtab", ".dynsym")
               for _ in elf.symbols(elf.section(secname), (STT_GNU_IFUNC,), value=vaddr))


def data_offset(path, name):
    """File offset of the first defined symbol of any type called ``name``
    (or "name@version") with a non-zero value, or None: a USDT semaphore."""
    with ElfFile.open(path) as elf:
        for secname in (".symtab", ".dynsym"):
            for _, _, value, _, _, _, _ in elf.symbols(elf.section(secname), None, name.encode()):
                if value:
                    return _vaddr_to_offset([(s.vaddr, s.offset, s.filesz, s.memsz)
                                             for s in elf.loads()], value)
    return None


def load(path, open_path=None):
    """ElfSymbols for a file, cached by (device, inode, mtime, size).

    The key follows the file, not the name, so one library seen through many
    processes' /proc/PID/root or map_files paths is parsed once, and a
    rebuilt binary at the same path is parsed again.
    """
    key = _key(path, open_path)
    syms = _CACHE.get(key)
    if syms is not None:
        _CACHE.move_to_end(key)
        return syms
    syms = ElfSymbols(path, open_path)
    _CACHE[key] = syms
    if len(_CACHE) > _CACHE_MAX:
        _CACHE.popitem(last=False)
    return syms
