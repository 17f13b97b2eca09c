"""The exporter's BPF objects: prebuilt when current, else compiled.

Built-in metric sets live in pybcc/exporter/bpf/NAME.bpf.c. As with the
tools (pybcc/tools/lib/prebuilt.py), `python3 -m pybcc.exporter.objects` (run by
scripts/setup.sh) compiles them once into bpf/prebuilt/, so the daemon's
start needs no compiler while the sources and headers are unchanged.
Custom programs of the config compile through the object cache.
"""
import hashlib
import os
import shutil
import sys

from .. import compiler
from .. import cache
from ..tools.lib.prebuilt import INCLUDE_DIR as TOOLS_INCLUDE_DIR

BPF_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bpf")
INCLUDE_DIRS = [TOOLS_INCLUDE_DIR, os.path.join(BPF_DIR, "include")]
PREBUILT_DIR = os.path.join(BPF_DIR, "prebuilt")


def _digest(src):
    h = hashlib.sha256(compiler.headers_digest().encode())
    headers = sorted(os.path.join(d, f) for inc in INCLUDE_DIRS
                     for d, _, fs in os.walk(inc) for f in fs)
    for path in [src] + headers:
        with open(path, "rb") as f:
            h.update(path.encode() + b"\0" + f.read())
    return h.hexdigest()


def builtin_names():
    return sorted(f[:-len(".bpf.c")] for f in os.listdir(BPF_DIR) if f.endswith(".bpf.c"))


def builtin_object(name):
    """Path of the compiled object of built-in BPF source ``name``."""
    src = os.path.join(BPF_DIR, name + ".bpf.c")
    obj = os.path.join(PREBUILT_DIR, name + ".bpf.o")
    try:
        with open(obj + ".sha256") as f:
            if f.read().strip() == _digest(src) and os.path.exists(obj):
                return obj
    except OSError:
        pass
    return compiler.compile(src, include_dirs=INCLUDE_DIRS)


def custom_object(path, include_dirs=(), cflags=()):
    """Compile a user's libbpf-style .bpf.c (the exporter's and the tools'
    headers are on the include path)."""
    return compiler.compile(path, cflags=list(cflags), include_dirs=list(include_dirs) + INCLUDE_DIRS)


def prebuild():
    os.makedirs(PREBUILT_DIR, exist_ok=True)
    for name in builtin_names():
        src = os.path.join(BPF_DIR, name + ".bpf.c")
        obj = os.path.join(PREBUILT_DIR, name + ".bpf.o")
        shutil.copyfile(compiler.compile(src, include_dirs=INCLUDE_DIRS), obj + ".tmp")
        os.replace(obj + ".tmp", obj)
        cache.write_atomic(obj + ".sha256", _digest(src).encode())
    return builtin_names()


if __name__ == "__main__":
    names = prebuild()
    print(f"prebuilt {len(names)} exporter objects in {PREBUILT_DIR}", file=sys.stderr)
