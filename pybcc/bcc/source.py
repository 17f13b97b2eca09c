"""From the user's C (bcc dialect or plain libbpf-style C) to an object
file and the facts the BPF class needs about it.

The bcc dialect goes through pybcc.bcc.dialect.rewrite (tables, probe-name
conventions, struct types of perf_submit). Plain C is compiled as is; its
programs are then found by their ELF sections, and those whose section names
an event (SEC("tracepoint/sched/sched_switch"), SEC("raw_tp/sys_enter"), ...)
are attached automatically, as bcc attaches kprobe__* functions. Text is
plain C when some function is placed with SEC("kind/...").
"""
import hashlib
import os
import re
import sys
from dataclasses import dataclass, field
from typing import Dict, List, Tuple

from .. import sections
from .constants import DEBUG_PREPROCESSOR, DEBUG_SOURCE
from .text import as_str


@dataclass
class Build:
    obj_path: str
    functions: List[str]                       # program functions, bcc-dialect mode
    auto_attach: List[Tuple[str, str, str]]    # (function, kind, target)
    perf_submits: Dict[str, str] = field(default_factory=dict)
    tables: Dict[str, object] = field(default_factory=dict)
    c_text: str = ""
    frontend: bool = False
    user_text: str = ""                        # the text as the user wrote it
    filename: str = "<text>"


# A function placed in a program section by SEC("kind/...") marks plain
# libbpf-style C; data sections (.maps, license, .rodata, ...) do not.
_PROGRAM_SEC = re.compile(r'\bSEC\s*\(\s*"(?!\.|license")[^"]+"\s*\)')


def is_libbpf_c(c_text):
    """Whether the text is plain libbpf-style C (programs marked with SEC())."""
    return _PROGRAM_SEC.search(c_text) is not None


def _frontend():
    try:
        from .dialect import rewrite
    except ImportError:
        return None
    return rewrite


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


def build(text, src_file="", cflags=(), debug=0):
    """Rewrite (when the front end is there) and compile; the object is cached."""
    from ..compiler import compile as compile_c
    c_text, filename = read_source(text, src_file)
    cflags = [as_str(f) for f in cflags or ()]
    include_dirs = [os.path.dirname(os.path.abspath(filename))] if filename != "<text>" else []
    rewrite = None if is_libbpf_c(c_text) else _frontend()
    if rewrite is None:
        if debug & (DEBUG_SOURCE | DEBUG_PREPROCESSOR):
            print(c_text, file=sys.stderr)
        obj = compile_c(c_text, cflags, include_dirs, filename=filename)
        return Build(obj, [], [], c_text=c_text, user_text=c_text, filename=filename)
    r = _rewrite_cached(rewrite, c_text, filename, cflags)
    if debug & (DEBUG_SOURCE | DEBUG_PREPROCESSOR):
        print(r.c_text, file=sys.stderr)
    include_dirs += [d for d in getattr(r, "include_dirs", ()) if d not in include_dirs]
    obj = compile_c(r.c_text, cflags, include_dirs, filename=filename,
                    line_map=getattr(r, "line_map", None))
    return Build(obj, list(getattr(r, "functions", []) or []),
                 [tuple(a) for a in getattr(r, "auto_attach", []) or []],
                 dict(getattr(r, "perf_submits", {}) or {}),
                 dict(getattr(r, "tables", {}) or {}), r.c_text, frontend=True,
                 user_text=c_text, filename=filename)


def source_line(build, line):
    """Line ``line`` of the user's text (stripped), or ""."""
    lines = build.user_text.splitlines()
    return lines[line - 1].strip() if 0 < line <= len(lines) else ""


# --- a per-boot cache of the front end's output ------------------------------------
#
# Rewriting reads tracepoint formats and the kernel's type names, which stay
# the same until reboot; the result is kept per boot, keyed by the text, the
# flags and the front end's own files, so a cached start skips it.

def _boot_id():
    try:
        with open("/proc/sys/kernel/random/boot_id") as f:
            return f.read().strip()
    except OSError:
        return ""


def _frontend_stamp():
    from . import dialect
    parts = []
    for d in dialect.__path__:
        for root, dirs, files in os.walk(d):
            dirs[:] = [x for x in dirs if x != "__pycache__"]
            for name in sorted(files):
                st = os.stat(os.path.join(root, name))
                parts.append(f"{os.path.join(root, name)}:{st.st_mtime_ns}:{st.st_size}")
    return "\n".join(sorted(parts))


class _Cached:
    def __init__(self, d):
        self.c_text = d["c_text"]
        self.line_map = d["line_map"]
        self.functions = d["functions"]
        self.auto_attach = [tuple(a) for a in d["auto_attach"]]
        self.perf_submits = d["perf_submits"]
        self.include_dirs = tuple(d.get("include_dirs", ()))
        self.tables = {}


def _rewrite_cached(rewrite, c_text, filename, cflags):
    from ..compiler import cache
    h = hashlib.sha256()
    for part in ("2", _boot_id(), _frontend_stamp(), filename, c_text, *cflags):
        b = part.encode("utf-8", "surrogateescape")
        h.update(len(b).to_bytes(8, "little") + b)
    try:
        path = os.path.join(cache.private_dir("bcc-rewrites"), h.hexdigest() + ".json")
    except Exception:           # no usable cache directory: just rewrite
        return rewrite(c_text, filename=filename, cflags=tuple(cflags))
    hit = cache.read_json(path)
    if hit is not None:
        try:
            return _Cached(hit)
        except (KeyError, TypeError):
            pass
    r = rewrite(c_text, filename=filename, cflags=tuple(cflags))
    lm = getattr(r, "line_map", None)
    cache.write_json(path, {"c_text": r.c_text, "line_map": lm if isinstance(lm, list) else None,
                            "functions": list(r.functions), "auto_attach": [list(a) for a in r.auto_attach],
                            "perf_submits": dict(r.perf_submits),
                            "include_dirs": list(getattr(r, "include_dirs", ()))})
    return r


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
