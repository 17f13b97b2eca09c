"""Compile BPF C to an object file, through a content-addressed cache.

The cache key covers everything that decides the object: the source text,
pybcc's own headers, the flags, the compiler (path + version), and the
vmlinux.h directory (its name carries the kernel BTF hash). Headers the
program includes from elsewhere are recorded after the first compile (from
clang's dependency file) with their hashes, and checked on every hit. A hit
costs a few file reads and never runs the compiler.
"""
import errno
import os
import re

from .. import cache as _cache
from ..cache import boot_id
from ..errors import CompileError
from ..lazy import LazyLogger
from ..kernel.arch import target_arch  # noqa: F401  (compiler.target_arch)
from . import cache
from .discover import Compiler, cache_tmpdir, find_compiler

log = LazyLogger("pybcc.compiler")

INCLUDE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "include")
# Kernel UAPI bits (errno numbers) that BPF programs include; searched after
# the system's headers, so only fill what is missing (always, for ziglang).
COMPAT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "compat")
KEY_VERSION = b"pybcc-compiler-1"

# Diagnostics that bcc-style and libbpf-style programs trigger harmlessly.
QUIET_FLAGS = (
    "-Wno-unknown-warning-option",
    "-Wno-unused-value",
    "-Wno-pointer-sign",
    "-Wno-compare-distinct-pointer-types",
    "-Wno-address-of-packed-member",
    "-Wno-gnu-variable-sized-type-not-at-end",
    "-Wno-tautological-compare",
    "-Wno-unknown-attributes",
    "-Wno-pragma-once-outside-header",
    "-Wno-deprecated-declarations",
    "-Wno-default-const-init-var-unsafe",
    "-Wno-incompatible-pointer-types-discards-qualifiers",
    # Errors by default in new clang; old bcc programs rely on them.
    "-Wno-error=int-conversion",
    "-Wno-error=incompatible-pointer-types",
    "-Wno-error=incompatible-function-pointer-types",
    "-Wno-error=implicit-function-declaration",
)

def base_flags(compiler, arch=None):
    """The flags pybcc gives every compile, before include dirs and user flags.
    ``arch``: the kernel architecture the object is for (default: this one)."""
    return [*compiler.flags, "-O2", "-g", "-mcpu=v3", "-fno-stack-protector",
            "-fno-color-diagnostics", "-fmessage-length=0",
            f"-D__TARGET_ARCH_{arch or target_arch()}", *QUIET_FLAGS]


def include_dir():
    """pybcc's own headers: <bpf/bpf_helpers.h> and friends."""
    return INCLUDE_DIR


_headers_digest = None


def headers_digest():
    """Hash of all of pybcc's headers, computed once per process."""
    global _headers_digest
    if _headers_digest is None:
        h = _cache.sha256()
        for d, dirs, files in sorted(w for top in (INCLUDE_DIR, COMPAT_DIR)
                                     for w in os.walk(top)):
            dirs.sort()
            for name in sorted(files):
                p = os.path.join(d, name)
                with open(p, "rb") as f:
                    data = f.read()
                h.update(p.encode() + b"\0")
                h.update(len(data).to_bytes(8, "little") + data)
        _headers_digest = h.hexdigest()
    return _headers_digest


KERNEL_BTF = "/sys/kernel/btf/vmlinux"
_CGEN_SOURCE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                            "btf", "cgen.py")
_vmlinux_memo = {}


def _kernel_vmlinux_dir(generate=True):
    """Directory of the running kernel's vmlinux.h (``generate``: False for
    its name alone, which names the kernel's BTF; the header may not be there).

    Asking cgen costs reading and hashing the whole kernel BTF (tens of ms),
    too slow for a cache hit. The kernel BTF cannot change without a reboot,
    so the answer is remembered per boot (and per cgen.py version) on disk."""
    try:
        boot = boot_id()
        st = os.stat(KERNEL_BTF)
        gen = os.stat(_CGEN_SOURCE)
        key = f"{boot}:{st.st_size}:{st.st_mtime_ns}:{gen.st_size}:{gen.st_mtime_ns}" if boot else None
    except OSError:
        key = None
    d = _vmlinux_memo.get(key) if key else None
    if d and not generate:
        return d
    path = None
    try:
        path = os.path.join(cache.private_dir(), "vmlinux-dirs.json")
    except (OSError, CompileError):
        pass
    if not d:
        d = ((cache.read_json(path) or {}) if path and key else {}).get(key)
    if not d or (generate and not os.path.isfile(os.path.join(d, "vmlinux.h"))):
        from ..btf import cgen  # lazy: a layer below, maybe absent
        d = cgen.vmlinux_header(KERNEL_BTF) if generate else cgen.header_dir(KERNEL_BTF)
        if path and key:
            try:
                cache.write_json(path, {key: d})
            except OSError:
                pass
    if key:
        _vmlinux_memo[key] = d
    return d


def kernel_btf_id():
    """A name for the running kernel's BTF (its vmlinux.h directory, which
    need not exist): what cache keys of compiles against it include."""
    return _kernel_vmlinux_dir(generate=False)


class ProgramTypes:
    """compile(vmlinux=ProgramTypes(...)): a vmlinux.h of the kernel types the
    program and the headers in ``header_dirs`` (and pybcc's) name
    (kernel_types.py); the whole one if clang still fails with it."""

    def __init__(self, header_dirs=()):
        self.header_dirs = tuple(header_dirs)


PROGRAM_TYPES = ProgramTypes()


def vmlinux_dir(vmlinux):
    if vmlinux is True or isinstance(vmlinux, ProgramTypes):
        return _kernel_vmlinux_dir()
    if not vmlinux:
        return None
    return os.fspath(vmlinux)


def _read_source(source, filename):
    """-> (text, display name, directory for "quoted" includes or None)."""
    if isinstance(source, bytes):
        source = source.decode()
    is_path = isinstance(source, os.PathLike) or (
        "\n" not in source and len(source) < 4096 and os.path.isfile(source))
    if is_path:
        path = os.fspath(source)
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            text = f.read()
        return text, filename or path, os.path.dirname(os.path.abspath(path))
    return source, filename or "<text>", None


def compile(source, cflags=(), include_dirs=(), *, filename=None, line_map=None,
            vmlinux=True, compiler=None, use_cache=True, output=None, arch=None, pch=None):
    """Compile BPF C and return the path of the object file.

    source       C text, or a path (os.PathLike, or a str naming an existing
                 file and containing no newline).
    cflags       extra compiler flags, appended after pybcc's.
    include_dirs extra -I directories.
    filename     name to show in diagnostics and debug info ("<text>" for text).
    line_map     maps lines of the compiled text to the user's lines, when the
                 caller rewrote the user's source: a callable(line) -> line or
                 None, or a list whose item i is the user line of compiled
                 line i + 1 (None for generated lines).
    vmlinux      True: generated vmlinux.h of the running kernel; a
                 ProgramTypes: one of only the kernel types the program names
                 (the whole one if clang still fails); a directory holding
                 vmlinux.h; or False for none.
    compiler     a Compiler (default: find_compiler()).
    use_cache    False to always compile (the result still lands in the cache).
    output       write the object here instead of the cache (no cache lookup).
    arch         the kernel architecture to build for (x86, arm64, ...; default:
                 this machine's), with a ``vmlinux`` directory of that kernel.
    pch          a callable(vmlinux directory) returning a precompiled header
                 of what the source includes (or None), asked only when clang
                 must run: it makes the compile faster, not the object
                 different, so it is not part of the cache key (a cache hit
                 never builds it).
    """
    text, display, src_dir = _read_source(source, filename)
    comp = compiler or find_compiler()
    program = vmlinux if isinstance(vmlinux, ProgramTypes) else None
    # A program's own vmlinux.h is made only if clang runs; the key names the BTF.
    vmdir = kernel_btf_id() if program else vmlinux_dir(vmlinux)
    flags = base_flags(comp, arch)
    incs = [os.path.abspath(os.fspath(d)) for d in include_dirs]
    for d in incs:
        flags += ["-I", d]
    if vmdir:
        flags += ["-I", vmdir]
    flags += ["-I", INCLUDE_DIR, "-idirafter", COMPAT_DIR]
    if src_dir:
        flags += ["-iquote", src_dir]
    flags += [os.fspath(f) for f in cflags]
    # The #line directive makes diagnostics and BTF line info name the user's file.
    body = '#line 1 "%s"\n%s' % (_c_string(display), text)

    if output is not None:
        if program:
            _run_program(comp, flags, vmdir, body, display, line_map, os.fspath(output), pch,
                         program.header_dirs)
        else:
            _run(comp, flags, body, display, line_map, os.fspath(output))
        return os.fspath(output)

    h = _cache.sha256(KEY_VERSION)
    for part in (body, comp.identity, headers_digest(), vmdir or "", *flags,
                 *(["program-types"] if program else [])):
        b = part.encode("utf-8", "surrogateescape")
        h.update(len(b).to_bytes(8, "little") + b)
    key = h.hexdigest()
    objdir = cache.private_dir("objects")
    obj = os.path.join(objdir, key + ".o")
    meta = os.path.join(objdir, key + ".json")
    if use_cache and _hit(obj, meta):
        return obj
    with cache_tmpdir() as tmp:
        out = os.path.join(tmp, "out.o")
        if program:
            deps = _run_program(comp, flags, vmdir, body, display, line_map, out, pch,
                                program.header_dirs)
        else:
            deps = _run_pch(comp, flags, vmdir, body, display, line_map, out, pch)
        _cache.install(out, obj)
    cache.write_json(meta, {"display": display, "compiler": comp.identity,
                            "deps": [[p, *_stamp(p), _sha(p)] for p in deps]})
    return obj


_PCH_REFUSED = re.compile(r"precompiled header|PCH file|AST file")


def _run_pch(comp, flags, vmdir, body, display, line_map, out, pch):
    """_run with the precompiled header pch(vmdir) when there is one."""
    skip = [INCLUDE_DIR, COMPAT_DIR] + ([vmdir] if vmdir else [])
    header = pch(vmdir) if pch else None
    try:
        return _run(comp, flags + (["-include-pch", header] if header else []), body, display,
                    line_map, out, skip=skip + ([os.path.dirname(header)] if header else []))
    except CompileError as e:
        # clang refusing a precompiled header (one built with other flags, a
        # header touched since): compile without it.
        if not header or not _PCH_REFUSED.search(e.output or e.message):
            raise
        return _run(comp, flags, body, display, line_map, out, skip=skip)


def _run_program(comp, flags, btf_dir, body, display, line_map, out, pch, header_dirs):
    """Compile against a vmlinux.h of the types the program names, adding
    those clang says are missing; then against the whole header, whose
    errors are the ones to report."""
    from . import kernel_types
    i = flags.index(btf_dir)
    for _ in range(kernel_types.LEARN_ROUNDS):
        d = kernel_types.program_dir(body, header_dirs)
        try:
            return _run_pch(comp, flags[:i] + [d] + flags[i + 1:], d, body, display,
                            line_map, out, pch)
        except CompileError as e:
            if not kernel_types.learn(e.output or e.message):
                break
    log.debug("%s: compiling with the whole vmlinux.h", display)
    full = vmlinux_dir(True)
    return _run_pch(comp, flags[:i] + [full] + flags[i + 1:], full, body, display,
                    line_map, out, pch)


def _hit(obj, meta):
    m = cache.read_json(meta)
    if m is None or not _cache.entry_ok(obj):
        return False
    for path, size, mtime, digest in m.get("deps", ()):
        try:
            if _stamp(path) != [size, mtime] and _sha(path) != digest:
                return False
        except OSError:
            return False
    return True


def _stamp(path):
    st = os.stat(path)
    return [st.st_size, st.st_mtime_ns]


def _sha(path):
    with open(path, "rb") as f:
        return _cache.hexdigest(f.read())


def _c_string(s):
    return s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _run(comp: Compiler, flags, body, display, line_map, out, skip=()):
    """Compile body to out (atomically). Returns the headers it read that are
    not under `skip`. Raises CompileError on failure."""
    with cache_tmpdir() as tmp:
        src = os.path.join(tmp, "source.c")
        with open(src, "w", encoding="utf-8", errors="surrogateescape") as f:
            f.write(body)
        tmp_obj = os.path.join(tmp, "out.o")
        depfile = os.path.join(tmp, "out.d")
        argv = [*comp.argv, *flags, "-c", src, "-o", tmp_obj, "-MD", "-MF", depfile]
        env = dict(os.environ, **dict(comp.env)) if comp.env else None
        if comp.kind == "zig":
            # zig keeps a copy of every output in its local cache: make that
            # the scratch dir, which goes away with this compile.
            env["ZIG_LOCAL_CACHE_DIR"] = os.path.join(tmp, "zig")
        try:
            r = _exec(argv, env)
        except OSError as e:
            raise CompileError(f"cannot run the compiler {comp}: {e}") from e
        output = _remap(r.stderr + r.stdout, display, line_map)
        if r.returncode != 0 or not os.path.exists(tmp_obj):
            raise _error(output, display, r.returncode)
        if output.strip():
            log.warning("%s", output.rstrip())
        deps = _parse_deps(depfile, skip=[tmp, *skip])
        _move(tmp_obj, out)
    return deps


def _move(src, dst):
    try:
        os.replace(src, dst)
    except OSError as e:
        if e.errno != errno.EXDEV:
            raise
        # Another filesystem: copy next to dst, then rename into place.
        with open(src, "rb") as f:
            cache.write_atomic(dst, f.read())


def _exec(argv, env):
    """Run the compiler (one place, so tests can count invocations)."""
    import subprocess       # not on a cache hit's path
    return subprocess.run(argv, capture_output=True, text=True, env=env,
                          errors="replace", stdin=subprocess.DEVNULL)


def _parse_deps(depfile, skip):
    try:
        with open(depfile, encoding="utf-8", errors="surrogateescape") as f:
            data = f.read()
    except OSError:
        return []
    data = data.replace("\\\n", " ")
    _, _, rest = data.partition(": ")
    # Paths are space separated; a backslash escapes a space in a path.
    names = [n.replace("\\ ", " ") for n in re.split(r"(?<!\\)\s+", rest) if n]
    skip = [os.path.realpath(s) + os.sep for s in skip]
    deps = []
    for n in names:
        p = os.path.realpath(n)
        if any(p.startswith(s) for s in skip) or not os.path.isfile(p) or p in deps:
            continue
        deps.append(p)
    return deps


# --- diagnostics --------------------------------------------------------------

_DIAG = re.compile(r"^(?P<file>[^\s:][^:]*):(?P<line>\d+):(?:(?P<col>\d+):)? "
                   r"(?P<sev>fatal error|error|warning|note|remark): (?P<msg>.*)$")


def line_mapper(line_map):
    """The compiled-line -> user-line function compile() uses for line_map
    (None if there is no map); for mapping BTF line info the same way."""
    return _mapper(line_map)


def _mapper(line_map):
    if line_map is None:
        return None
    if callable(line_map):
        fn = line_map
    else:
        table = list(line_map)

        def fn(n):
            return table[n - 1] if 0 < n <= len(table) else None

    def mapped(n):
        # Generated lines report the nearest user line above (or below) them.
        for m in list(range(n, 0, -1)) + list(range(n + 1, n + 200)):
            u = fn(m)
            if u is not None:
                return u
        return n
    return mapped


def _remap(output, display, line_map):
    """Rewrite display:LINE locations in the compiler output to user lines."""
    fn = _mapper(line_map)
    if fn is None or not output:
        return output
    loc = re.compile(r"(^|\s)" + re.escape(display) + r":(\d+)")

    def sub(m):
        return f"{m.group(1)}{display}:{fn(int(m.group(2)))}"

    out = []
    for line in output.splitlines(keepends=True):
        # Indented lines are source excerpts, not locations.
        if not line.startswith(" "):
            line = loc.sub(sub, line)
        out.append(line)
    return "".join(out)


def _error(output, display, rc):
    lines = output.splitlines()
    first = None
    for i, line in enumerate(lines):
        m = _DIAG.match(line)
        if m and m.group("sev") in ("error", "fatal error"):
            first = i
            break
    if first is None:
        # The BPF back end reports "Error at line N: ..." before its stack dump.
        backend = next((ln for ln in lines if re.match(r"^(.*Error at line \d+: |fatal error: )", ln)), None)
        if backend is not None:
            m = re.search(r"Error at line (\d+): (.*)", backend)
            where = f"{display}:{m.group(1)}: " if m else f"{display}: "
            return CompileError(f"{where}error: {m.group(2) if m else backend.strip()}",
                                output=output, filename=display,
                                line=int(m.group(1)) if m else None)
        tail = "\n".join(lines[-20:]) or f"exit status {rc}, no output"
        return CompileError(f"compiling {display} failed: {tail}", output=output, filename=display)
    m = _DIAG.match(lines[first])
    msg = [lines[first]]
    # Keep the source excerpt and caret that follow the first error.
    for line in lines[first + 1:first + 6]:
        if _DIAG.match(line) or line.startswith("In file included from") or \
                re.match(r"\d+ (errors?|warnings?)( and \d+ errors?)? generated", line):
            break
        msg.append(line)
    nerr = sum(1 for ln in lines if (d := _DIAG.match(ln)) and d.group("sev") in ("error", "fatal error"))
    if nerr > 1:
        msg.append(f"({nerr - 1} more error{'s' if nerr > 2 else ''}; see CompileError.output)")
    return CompileError("\n".join(msg), output=output, filename=m.group("file"),
                        line=int(m.group("line")))
