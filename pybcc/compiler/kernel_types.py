"""Per-program vmlinux.h of the running kernel, for BPF(text=...) compiles.

Generating the whole vmlinux.h takes over a second of Python the first time
a machine compiles anything, and clang parses 3 MB of it in every compile
(or precompiles it, ~0.7 s). A program's own header (pybcc.btf.closure) holds
only the kernel types its text and pybcc's headers name, with what they hold
by value: tens of kilobytes, written in milliseconds from the lazily parsed
kernel BTF. What clang then reports missing (a record reached through a
pointer the program never names) is learned for the rest of the process and
the compile runs again (``learn``); build.compile falls back to the whole
header when that does not help, so errors read as they always did.

The directories live in the cache under kernel-types/, keyed by the kernel
BTF and the set of types (programs naming the same types share one).
"""
import os

from .. import cache as _cache
from .build import INCLUDE_DIR, kernel_btf_id
from .cache import private_dir

# Compiles with a program's own vmlinux.h before the whole one: each learns
# the records clang found incomplete (a chain of pointers: one level a round).
LEARN_ROUNDS = 4

_kernel = None                      # KernelTypes of the running kernel
_learned = (set(), set())           # (tags, identifiers) clang asked for
_header_words = {}                  # directory -> (tags, identifiers) of its headers


def kernel():
    """The running kernel's KernelTypes (names index), once per process; the
    index is remembered in the cache per kernel BTF, so a later process
    parses the BTF only to write a header not written before."""
    global _kernel
    if _kernel is None:
        from ..btf import closure
        from ..btf import types as bt
        h = _cache.sha256(f"{kernel_btf_id()}\0{closure.INDEX_VERSION}".encode())
        path = os.path.join(private_dir("kernel-types"), f"index-{h.hexdigest()[:32]}.memo")
        # marshal, not JSON: ~35k names, written in ~2 ms where JSON takes ~15
        index = _cache.read_memo(path)
        if index is not None:
            _kernel = closure.KernelTypes(bt.BTF.kernel, index)
        else:
            with bt.gc_paused():
                _kernel = closure.KernelTypes(bt.BTF.kernel())
            try:
                _cache.write_memo(path, _kernel.index())
            except OSError:
                pass
    return _kernel


def _words_of_dir(d):
    """Names pybcc's headers in ``d`` use (read once per process)."""
    w = _header_words.get(d)
    if w is None:
        from ..btf.closure import words
        text = []
        for top, dirs, files in os.walk(d):
            dirs.sort()
            for name in sorted(files):
                if name.endswith(".h"):
                    with open(os.path.join(top, name), encoding="utf-8", errors="replace") as f:
                        text.append(f.read())
        w = _header_words[d] = words("\n".join(text))
    return w


def program_dir(text, header_dirs=()):
    """Directory holding a vmlinux.h with the kernel types ``text`` names,
    those pybcc's headers (and ``header_dirs``' headers) name, and those
    learned from earlier compiles in this process."""
    from ..btf.closure import words
    kt = kernel()
    tags, idents = words(text)
    for d in (INCLUDE_DIR, *header_dirs):
        t, i = _words_of_dir(d)
        tags |= t
        idents |= i
    tags |= _learned[0]
    idents |= _learned[1]
    ids = kt.ids_for(tags, idents)
    h = _cache.sha256(b"pybcc-kernel-types-1\0" + kernel_btf_id().encode())
    h.update(",".join(map(str, sorted(ids))).encode())
    d = private_dir("kernel-types", h.hexdigest()[:32])
    path = os.path.join(d, "vmlinux.h")
    if not _cache.entry_ok(path):
        from ..btf.cgen import CGenerator
        text = CGenerator(kt.btf, decode_all=False).generate(ids)
        _cache.write_entry(path, text.encode(), mode=0o644)
    return d


def learn(output):
    """Remember the kernel types clang's ``output`` says were missing or
    incomplete; True if any is new (compiling again may then succeed)."""
    tags, idents = kernel().missing(output)
    new = (tags - _learned[0]) or (idents - _learned[1])
    _learned[0].update(tags)
    _learned[1].update(idents)
    return bool(new)
