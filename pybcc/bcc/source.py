"""From the user's C (bcc dialect or plain libbpf-style C) to an object
file and the facts the BPF class needs about it.

The bcc dialect goes through pybcc.bcc.dialect.rewrite (tables, probe-name
conventions, struct types of perf_submit). Plain C is compiled as is; its
programs are then found by their ELF sections, and those whose section names
an event (SEC("tracepoint/sched/sched_switch"), SEC("raw_tp/sys_enter"), ...)
are attached automatically, as bcc attaches kprobe__* functions. Text is
plain C when some function is placed with SEC("kind/...").
"""
from __future__ import annotations

import os
import re
import sys

from .. import sections
from ..record import field, record
from ..compiler.build import PROGRAM_TYPES, ProgramTypes
from .constants import DEBUG_PREPROCESSOR, DEBUG_SOURCE
from ..errors import CompileError
from .dialect import rewrite
from .text import as_str


@record
class Build:
    obj_path: str
    functions: list[str]                       # program functions, bcc-dialect mode
    auto_attach: list[tuple[str, str, str]]    # (function, kind, target)
    perf_submits: dict[str, str] = field(default_factory=dict)
    tables: dict[str, object] = field(default_factory=dict)
    c_text: str = ""
    frontend: bool = False
    user_text: str = ""                        # the text as the user wrote it
    filename: str = "<text>"
    cflags: list[str] = field(default_factory=list)
    include_dirs: list[str] = field(default_factory=list)


# A function placed in a program section by SEC("kind/...") marks plain
# libbpf-style C; data sections (.maps, license, .rodata, ...) do not.
_PROGRAM_SEC = re.compile(r'\bSEC\s*\(\s*"(?!\.|license")[^"]+"\s*\)')


def is_libbpf_c(c_text):
    """Whether the text is plain libbpf-style C (programs marked with SEC())."""
    return _PROGRAM_SEC.search(c_text) is not None


def read_source(text, src_file):
    """(C text, filename for messages)."""
    if text is not None:
        return as_str(text), "<text>"
    src_file = as_str(src_file)
    if not src_file:
        raise ValueError("BPF() needs text= or src_file=")
    path = src_file
    if not os.path.isabs(path) and not os.path.exists(path):
        # bcc looks next to the running script too
        here = os.path.dirname(os.path.abspath(sys.argv[0] if sys.argv and sys.argv[0] else "."))
        if os.path.exists(os.path.join(here, path)):
            path = os.path.join(here, path)
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        return f.read(), path


# bcc generates code for BPF ISA v1 (64-bit moves and jumps, no alu32), and its
# users compare dump_func() bytes with that; a user's own -mcpu comes later and wins.
BCC_MCPU = "-mcpu=v1"


def build(text, src_file="", cflags=(), debug=0):
    """Rewrite (when the front end is there) and compile; the object is cached."""
    from ..compiler import compile as compile_c
    c_text, filename = read_source(text, src_file)
    cflags = [as_str(f) for f in cflags or ()]
    include_dirs = [os.path.dirname(os.path.abspath(filename))] if filename != "<text>" else []
    if is_libbpf_c(c_text):
        if debug & (DEBUG_SOURCE | DEBUG_PREPROCESSOR):
            print(c_text, file=sys.stderr)
        obj = compile_c(c_text, cflags, include_dirs, filename=filename, vmlinux=PROGRAM_TYPES)
        return Build(obj, [], [], c_text=c_text, user_text=c_text, filename=filename)
    # The dialect caches its own output (one rewrite cache, keyed by the text,
    # flags, its code and the kernel's BTF), and the compiler its objects,
    # both in pybcc.cache.
    # The front end gets the compile's flags, so both use one precompiled header.
    cflags = [BCC_MCPU, *cflags]
    r = rewrite(c_text, filename=filename, cflags=tuple(cflags))
    for w in r.warnings:      # as bcc: clang's warnings on stderr, the compile goes on
        print(w, file=sys.stderr)
    if debug & (DEBUG_SOURCE | DEBUG_PREPROCESSOR):
        print(r.c_text, file=sys.stderr)
    include_dirs += [d for d in r.include_dirs if d not in include_dirs]
    try:
        obj = _compile(r.c_text, cflags, include_dirs, filename=filename,
                       line_map=r.line_map)
    except CompileError as e:
        raise _in_user_text(e, r.c_text, c_text, filename) from None
    return Build(obj, list(r.functions), [tuple(a) for a in r.auto_attach],
                 dict(r.perf_submits), dict(r.tables), r.c_text, frontend=True,
                 user_text=c_text, filename=filename, cflags=cflags, include_dirs=include_dirs)


# Variants of a bcc program, compiled on demand: kprobe programs whose register
# reads map onto a stand-in tracepoint's record (pybcc_bcc.h, fallbacks.py).
VARIANT_DEFINES = {"syscall_tp": "-D__PYBCC_SYSCALL_TP", "raw_tp": "-D__PYBCC_RAW_TP"}


def build_variant(build, variant):
    """The object of ``build``'s rewritten C compiled as ``variant``."""
    return _compile(build.c_text, [*build.cflags, VARIANT_DEFINES[variant]],
                    build.include_dirs,
                    filename=build.filename)


def _compile(c_text, cflags, include_dirs, **kw):
    """Compile rewritten bcc C; when clang must run, with pybcc_bcc.h
    precompiled (the front end's PCH for the same flags; its variant defines
    get their own)."""
    from ..compiler import compile as compile_c

    from .dialect import rewriter

    def pch(vmdir):
        from .dialect import implicit
        return implicit.precompiled(rewriter.HEADER, cflags, vmdir)
    return compile_c(c_text, cflags, include_dirs, pch=pch,
                     vmlinux=ProgramTypes((rewriter.INCLUDE_DIR,)), **kw)


def _in_user_text(err, compiled, user, filename):
    """The compile error with the user's lines and columns (dialect/diagnostics.py)."""
    from .dialect import diagnostics
    body = compiled.split("\n#line 1 ", 1)[-1].split("\n", 1)[-1]
    args = (filename, body.splitlines(), user.splitlines())
    message = diagnostics.in_user_text(err.message, *args)
    output = diagnostics.in_user_text(err.output or "", *args)
    missing = diagnostics.types_not_in_kernel(output, _kernel_records())
    if missing:
        message += (f"\nnote: {', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not in "
                    f"this kernel's BTF (a module that is not loaded, or a kernel without it)")
    return CompileError(message, output, filename=err.filename, line=err.line)


def _kernel_records():
    try:
        from .dialect import implicit
        return implicit.kernel_names()[0]
    except Exception:
        return None


def source_line(build, line):
    """Line ``line`` of the user's text (stripped), or ""."""
    lines = build.user_text.splitlines()
    return lines[line - 1].strip() if 0 < line <= len(lines) else ""


def section_auto_attach(spec):
    """(function, bcc kind, target) for each program of plain C whose section
    names its event."""
    out = []
    for name, ps in spec.programs.items():
        kind = sections.bcc_kind(ps.sdef)
        if not kind or not ps.target:
            continue
        target = ps.target
        if kind == "tracepoint":
            target = target.replace("/", ":", 1)
        elif kind in ("uprobe", "uretprobe") and ":" not in target:
            continue                    # uprobe/BINARY:FUNCTION names its own event
        out.append((name, kind, target))
    return out
