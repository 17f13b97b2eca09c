"""Turn a short library or program name into a path, the way bcc's uprobes accept them.

"c", "libc", "libc.so.6" and "/full/path/libc.so.6" all name libc. For a pid
the library that process actually mapped wins; otherwise the dynamic linker's
cache (/etc/ld.so.cache, read directly: it is what `ldconfig -p` prints)
decides, restricted to libraries of our own architecture.
"""
import os
import re
import struct

from .elf import machine_of
from .format import as_str
from .procmaps import read_maps

LD_SO_CACHE = "/etc/ld.so.cache"
_NEW_MAGIC = b"glibc-ld.so.cache1.1"
_FALLBACK_DIRS = ["/lib64", "/usr/lib64", "/lib", "/usr/lib", "/usr/local/lib"]

_cache_entries = None
_cache_key = None


def read_ld_so_cache(path=LD_SO_CACHE):
    """[(soname, path)] in cache order from the "glibc-ld.so.cache1.1" format.

    Layout: 20-byte magic+version, u32 nlibs, u32 strings length, 24 bytes of
    flags/extension/padding, then nlibs entries (i32 flags, u32 key, u32 value,
    u32 osversion, u64 hwcap); key and value are string offsets from the
    header. An old "ld.so-1.7.0" table may precede it: we skip to the magic.
    """
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return []
    base = data.find(_NEW_MAGIC)
    if base < 0:
        return []
    (nlibs,) = struct.unpack_from("<I", data, base + 20)
    out = []
    for i in range(nlibs):
        pos = base + 48 + 24 * i
        if pos + 24 > len(data):
            break
        _, key, value = struct.unpack_from("<iII", data, pos)
        k, v = base + key, base + value
        out.append((data[k:data.find(b"\0", k)].decode(errors="replace"),
                    data[v:data.find(b"\0", v)].decode(errors="replace")))
    return out


def _ld_cache():
    global _cache_entries, _cache_key
    try:
        st = os.stat(LD_SO_CACHE)
        key = (st.st_ino, st.st_mtime_ns)
    except OSError:
        key = None
    if _cache_entries is None or key != _cache_key:
        _cache_entries, _cache_key = read_ld_so_cache(), key
    return _cache_entries


def _wanted(name):
    """Predicate on a soname (or file name) for a short name like "c" or "libc"."""
    if name.startswith("lib") and ".so" in name:
        return lambda s: s == name
    stem = name if name.startswith("lib") else "lib" + name
    # "c" matches libc.so.6 but neither libcap.so nor libc-client.so.
    rx = re.compile(re.escape(stem) + r"(\.so(\..*)?|-[0-9.]+\.so)$")
    return lambda s: bool(rx.match(s))


def _our_machine():
    return machine_of("/proc/self/exe")


def _same_root(pid):
    """Whether paths in ``pid``'s maps mean the same files as ours: same mount
    namespace and same root directory (a chroot or container differs)."""
    try:
        if os.readlink(f"/proc/{pid}/ns/mnt") != os.readlink("/proc/self/ns/mnt"):
            return False
        theirs, ours = os.stat(f"/proc/{pid}/root"), os.stat("/")
        return (theirs.st_dev, theirs.st_ino) == (ours.st_dev, ours.st_ino)
    except OSError:
        return True


def reachable_path(pid, path):
    """``path`` as the process ``pid`` sees it, made openable from here: through
    /proc/PID/root when the process lives in another mount namespace or root.
    (For a chroot, maps already shows our own view of the path.)"""
    if pid is None or path.startswith("/proc/") or _same_root(pid):
        return path
    rooted = f"/proc/{pid}/root{path}"
    return rooted if os.path.exists(rooted) or not os.path.exists(path) else path


def find_library(name, pid=None):
    """Path of a shared library given a short name, soname or path; None if unknown."""
    name = as_str(name)
    if not name:
        return None
    if "/" in name:
        return reachable_path(pid, name) if pid else name
    want = _wanted(name)
    if pid is not None:
        try:
            for m in read_maps(pid):
                if m.path.startswith("/") and want(os.path.basename(m.path)):
                    return reachable_path(pid, m.path)
        except (ProcessLookupError, PermissionError):
            pass
    mine = _our_machine()
    for soname, path in _ld_cache():
        if want(soname) and os.path.exists(path) and machine_of(path) == mine:
            return path
    dirs = [d for d in os.environ.get("LD_LIBRARY_PATH", "").split(":") if d] + _FALLBACK_DIRS
    import glob     # (these two only where the loader's cache does not know the name)
    for d in dirs:
        for path in sorted(glob.glob(os.path.join(d, "lib*.so*"))):
            if want(os.path.basename(path)) and machine_of(path) == mine:
                return path
    return None


def find_binary(name):
    """Path of an executable: as given when it has a slash, else searched on PATH."""
    name = as_str(name)
    if "/" in name:
        return name if os.path.isfile(name) else None
    import shutil   # (it imports bz2 and lzma)
    return shutil.which(name)


def resolve_module(name, pid=None):
    """What a uprobe's ``name`` means: a library first, then a program on PATH."""
    return find_library(name, pid) or find_binary(name)
