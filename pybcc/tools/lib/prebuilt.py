"""Tool objects compiled ahead of time, as libbpf-tools ships its own.

CO-RE makes an object compiled once (against any vmlinux.h) load on every
kernel, so `python3 -m pybcc.tools.lib.prebuilt` (run by scripts/setup.sh)
compiles every tool into pybcc/tools/prebuilt/, and a tool's first run then
needs neither a compiler nor a generated vmlinux.h. A prebuilt object is used
only while its source and pybcc's headers are unchanged; otherwise the tool
compiles its source through the object cache as before.
"""
import hashlib
import os
import shutil
import sys

from ... import compiler
from ...compiler import cache

TOOLS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INCLUDE_DIR = os.path.join(TOOLS_DIR, "include")
PREBUILT_DIR = os.path.join(TOOLS_DIR, "prebuilt")


def _source_digest(src):
    h = hashlib.sha256(compiler.headers_digest().encode())
    for path in [src] + sorted(os.path.join(d, f) for d, _, fs in os.walk(INCLUDE_DIR) for f in fs):
        with open(path, "rb") as f:
            h.update(path.encode() + b"\0" + f.read())
    return h.hexdigest()


def _paths(name):
    obj = os.path.join(PREBUILT_DIR, name + ".bpf.o")
    return os.path.join(TOOLS_DIR, name + ".bpf.c"), obj, obj + ".sha256"


def tool_object(name):
    """The compiled object of tool ``name``: prebuilt if current, else compiled."""
    src, obj, stamp = _paths(name)
    try:
        with open(stamp) as f:
            if f.read().strip() == _source_digest(src) and os.path.exists(obj):
                return obj
    except OSError:
        pass
    return compiler.compile(src, include_dirs=[INCLUDE_DIR])


def prebuild():
    """Compile every tool's .bpf.c into PREBUILT_DIR; returns the names built."""
    os.makedirs(PREBUILT_DIR, exist_ok=True)
    built = []
    for fname in sorted(os.listdir(TOOLS_DIR)):
        if not fname.endswith(".bpf.c"):
            continue
        name = fname[:-len(".bpf.c")]
        src, obj, stamp = _paths(name)
        compiled = compiler.compile(src, include_dirs=[INCLUDE_DIR])
        shutil.copyfile(compiled, obj + ".tmp")
        os.replace(obj + ".tmp", obj)
        cache.write_atomic(stamp, _source_digest(src).encode())
        built.append(name)
    return built


if __name__ == "__main__":
    names = prebuild()
    print(f"prebuilt {len(names)} tool objects in {PREBUILT_DIR}", file=sys.stderr)
