"""Tool objects compiled ahead of time, as libbpf-tools ships its own.

CO-RE makes an object compiled once (against any vmlinux.h of the same
architecture) load on every kernel, so `python3 -m pybcc.tools.lib.prebuilt`
(run by scripts/setup.sh, and before a wheel is built) compiles every tool
into pybcc/tools/prebuilt/ARCH/, and a tool's first run then needs neither a
compiler nor a generated vmlinux.h. A prebuilt object is used only while its
source and pybcc's headers are unchanged (a digest of their contents, not of
their paths, so an installed wheel matches); otherwise the tool compiles its
source through the object cache as before.

    python3 -m pybcc.tools.lib.prebuilt                      # this machine's arch
    python3 -m pybcc.tools.lib.prebuilt --arch arm64 --btf /boot/vmlinuz-...-arm64
"""
import argparse
import os
import sys

from ... import cache
from ...kernel.arch import target_arch

TOOLS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# pybcc.compiler's header directories (compiler/build.py: INCLUDE_DIR,
# COMPAT_DIR), named here so that a start from a prebuilt object does not
# import the compiler layer.
_COMPILER_DIR = os.path.join(os.path.dirname(TOOLS_DIR), "compiler")
COMPILER_INCLUDE_DIR = os.path.join(_COMPILER_DIR, "include")
COMPAT_DIR = os.path.join(_COMPILER_DIR, "compat")
INCLUDE_DIR = os.path.join(TOOLS_DIR, "include")
PREBUILT_DIR = os.path.join(TOOLS_DIR, "prebuilt")

_header_files = None


def _headers():
    """Every header a tool can include: [(top directory, path)], sorted."""
    global _header_files
    if _header_files is None:
        _header_files = []
        for top in (INCLUDE_DIR, COMPILER_INCLUDE_DIR, COMPAT_DIR):
            for d, dirs, files in sorted(os.walk(top)):
                dirs.sort()
                _header_files += [(top, os.path.join(d, name)) for name in sorted(files)]
    return _header_files


def _source_digest(src):
    """Digest of a tool's source and of every header (by relative name),
    remembered while none of those files changes (cache.remembered_digest)."""
    headers = _headers()
    return cache.remembered_digest("prebuilt-source", [p for _, p in headers] + [src],
                                   lambda: _contents_digest(headers, src))


def _contents_digest(headers, src):
    h = cache.sha256()
    for top, path in headers:
        with open(path, "rb") as f:
            h.update(os.path.relpath(path, top).encode() + b"\0" + f.read())
    with open(src, "rb") as f:
        return cache.sha256(h.hexdigest().encode() + f.read()).hexdigest()


def _paths(name, arch=None):
    obj = os.path.join(PREBUILT_DIR, arch or target_arch(), name + ".bpf.o")
    return os.path.join(TOOLS_DIR, name + ".bpf.c"), obj, obj + ".sha256"


def current_object(name, arch=None):
    """The prebuilt object of tool ``name`` for ``arch`` if it was built from
    today's source and headers, else None."""
    src, obj, stamp = _paths(name, arch)
    try:
        with open(stamp) as f:
            if f.read().strip() == _source_digest(src) and os.path.exists(obj):
                return obj
    except OSError:
        pass
    return None


def tool_object(name):
    """The compiled object of tool ``name``: prebuilt if current, else compiled."""
    if (obj := current_object(name)):
        return obj
    from ... import compiler
    return compiler.compile(
        os.path.join(TOOLS_DIR, name + ".bpf.c"), include_dirs=[INCLUDE_DIR])


def tool_names():
    return sorted(f[:-len(".bpf.c")] for f in os.listdir(TOOLS_DIR) if f.endswith(".bpf.c"))


def prebuild(arch=None, vmlinux_dir=True, force=False, failed=None):
    """Compile every tool's .bpf.c into PREBUILT_DIR/ARCH (those not current
    yet, or all with ``force``); returns the names built. ``vmlinux_dir``: a
    directory with that architecture's vmlinux.h (default: the running kernel's).
    ``failed``: a list that collects the tools that do not compile, and the
    others are still built (without it the first failure raises)."""
    import shutil
    from ... import compiler
    from ...errors import CompileError
    built = []
    for name in tool_names():
        if not force and current_object(name, arch):
            continue
        src, obj, stamp = _paths(name, arch)
        os.makedirs(os.path.dirname(obj), exist_ok=True)
        try:
            compiled = compiler.compile(src, include_dirs=[INCLUDE_DIR], arch=arch,
                                        vmlinux=vmlinux_dir)
        except CompileError as e:
            if failed is None:
                raise
            print(f"prebuilt: {name} failed: {e}", file=sys.stderr)
            failed.append(name)
            continue
        shutil.copyfile(compiled, obj + ".tmp")
        os.replace(obj + ".tmp", obj)
        cache.write_atomic(stamp, _source_digest(src).encode())
        built.append(name)
    from ...elf_reader import write_spec_beside
    for name in tool_names():
        obj = current_object(name, arch)
        if obj:
            write_spec_beside(obj)    # a first start need not parse the ELF
    return built


def write_vmlinux_h(kernel_image, directory):
    """vmlinux.h of another kernel (a vmlinuz, vmlinux or raw BTF file) in ``directory``."""
    from ...btf import cgen, extract, types
    btf = types.BTF.parse(extract.btf_from_vmlinuz(kernel_image))
    with open(os.path.join(directory, "vmlinux.h"), "w") as f:
        f.write(cgen.generate(btf))
    return directory


def main(argv=None):
    p = argparse.ArgumentParser(prog="python3 -m pybcc.tools.lib.prebuilt",
                                description="Compile every tool's BPF object ahead of time.")
    p.add_argument("--arch", help="kernel architecture to build for (x86, arm64; default: this one)")
    p.add_argument("--btf", help="that architecture's kernel image (vmlinuz) or BTF file, "
                                 "for its vmlinux.h (needed with --arch)")
    p.add_argument("--force", action="store_true", help="rebuild objects that are current too")
    args = p.parse_args(argv)
    import tempfile
    failed = []         # one tool's failure does not stop the others'
    if args.arch and args.arch != target_arch() and not args.btf:
        p.error("--arch needs --btf (a kernel image of that architecture)")
    if args.btf:
        # a directory that stays the same between runs, so the compile cache hits
        vmdir = cache.private_dir("vmlinux-" + cache.sha256(
            os.path.abspath(args.btf).encode() + str(os.stat(args.btf).st_mtime_ns).encode()
        ).hexdigest()[:16])
        if not os.path.exists(os.path.join(vmdir, "vmlinux.h")):
            with tempfile.TemporaryDirectory(dir=vmdir) as d:   # then one atomic rename
                write_vmlinux_h(args.btf, d)
                os.replace(os.path.join(d, "vmlinux.h"), os.path.join(vmdir, "vmlinux.h"))
        names = prebuild(args.arch, vmdir, args.force, failed)
    else:
        names = prebuild(args.arch, force=args.force, failed=failed)
    where = os.path.join(PREBUILT_DIR, args.arch or target_arch())
    print(f"prebuilt {len(names)} tool objects in {where} "
          f"({len(tool_names()) - len(names) - len(failed)} already current"
          + (f"; {len(failed)} failed: {', '.join(failed)})" if failed else ")"), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
