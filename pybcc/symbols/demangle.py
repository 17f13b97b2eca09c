"""C++ (Itanium ABI) name demangling.

The C++ runtime already carries the reference demangler, __cxa_demangle in
libstdc++; calling it through ctypes costs a few microseconds a name and
needs nothing installed beyond the library any C++ program links. Without
libstdc++ we fall back to one long-lived `c++filt` (binutils) fed a name per
line. Without either, names are returned as they are.
"""
import threading

_lock = threading.Lock()
_impl = None
_cache = {}
_CACHE_MAX = 65536


def _load_cxa():
    import ctypes
    try:
        lib = _libstdcxx()
        libc = ctypes.CDLL(None)
        fn = lib.__cxa_demangle
    except (OSError, AttributeError):
        return None
    fn.restype = ctypes.c_void_p
    fn.argtypes = [ctypes.c_char_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.POINTER(ctypes.c_int)]
    free = libc.free
    free.argtypes = [ctypes.c_void_p]

    def cxa(name):
        status = ctypes.c_int(0)
        ptr = fn(name.encode(), None, None, ctypes.byref(status))
        if not ptr:
            return name
        try:
            return ctypes.string_at(ptr).decode(errors="replace")
        finally:
            free(ptr)  # the result is malloc()ed for us
    return cxa


def _libstdcxx():
    """libstdc++ by its soname, as the dynamic linker finds it; else wherever
    ctypes.util finds it (which runs ldconfig and a compiler: ~10 ms)."""
    import ctypes
    try:
        return ctypes.CDLL("libstdc++.so.6")
    except OSError:
        import ctypes.util
        path = ctypes.util.find_library("stdc++")
        if not path:
            raise
        return ctypes.CDLL(path)


class _CxxFilt:
    def __init__(self, exe):
        import subprocess
        self.proc = subprocess.Popen([exe], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, bufsize=1)

    def __call__(self, name):
        if "\n" in name:
            return name
        self.proc.stdin.write(name + "\n")
        self.proc.stdin.flush()
        return self.proc.stdout.readline().rstrip("\n") or name


def _implementation():
    global _impl
    if _impl is None:
        _impl = _load_cxa()
        if _impl is None:
            import shutil
            exe = shutil.which("c++filt")
            _impl = _CxxFilt(exe) if exe else (lambda name: name)
    return _impl


def demangle(name):
    """The readable form of a mangled C++ name ("_ZN3foo3barEv" -> "foo::bar()");
    anything that is not a mangled name comes back unchanged."""
    if not name.startswith("_Z"):
        return name
    hit = _cache.get(name)
    if hit is not None:
        return hit
    base, at, version = name.partition("@")  # "_ZNSt...@@GLIBCXX_3.4": keep the version tag
    with _lock:
        out = _implementation()(base)
    out = out + at + version if at else out
    if len(_cache) >= _CACHE_MAX:
        _cache.clear()
    _cache[name] = out
    return out
