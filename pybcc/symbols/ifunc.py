"""Where a GNU indirect function (IFUNC) really runs.

memcpy, strlen and friends in glibc are IFUNCs: the symbol is a resolver the
dynamic linker calls once to choose an implementation for this CPU. A
uprobe on the resolver never fires after start-up. The dynamic linker
answers the question for us: dlsym() of an IFUNC returns the chosen
implementation, and the traced process runs on the same CPU, so it chose
the same one. We then find that address in our own maps to get its file
offset.
"""
import ctypes
import os

from .procmaps import read_maps


def implementation_offset(path, name, load=True):
    """File offset in ``path`` of the code the IFUNC ``name`` resolves to, or None.

    The library is looked up among those already loaded here; with ``load``
    it is dlopen()ed when it is not (running its constructors, as bcc does).
    """
    mode = os.RTLD_LAZY | os.RTLD_LOCAL
    try:
        lib = ctypes.CDLL(path, mode=mode | os.RTLD_NOLOAD)
    except OSError:
        if not load:
            return None
        try:
            lib = ctypes.CDLL(path, mode=mode)
        except OSError:
            return None  # another architecture, or an executable
    try:
        addr = ctypes.cast(getattr(lib, name), ctypes.c_void_p).value
    except AttributeError:
        return None
    for m in read_maps(os.getpid()):
        if m.start <= addr < m.end and m.path.startswith("/"):
            try:
                if not os.path.samefile(m.path, path):
                    return None  # resolved into another library
            except OSError:
                return None
            return addr - m.start + m.offset
    return None
