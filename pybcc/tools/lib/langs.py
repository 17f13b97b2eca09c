"""The language runtimes of the u* tools (ucalls, uflow, ugc, uobjnew, ustat,
uthreads): which USDT probes each runtime has, which probe arguments hold
the class and method names, and how a process's runtime is recognised.

The BPF programs are the same for every language: each attachment carries
a cookie saying which arguments to read (see include/pybcc/langs.h), so
one compiled object serves them all.

Whether Debian 12's packages carry the probes (readelf -n, .note.stapsdt),
checked for this project:
  python3.11          yes (/usr/bin/python3.11)
  openjdk-17 (java)   yes (libjvm.so, provider hotspot)
  ruby3.1             yes (libruby-3.1.so)
  php8.2-cli          yes (/usr/bin/php8.2; fire only with USE_ZEND_DTRACE=1)
  nodejs 18 / 20      no  (Debian's libnode108 and nodesource's node)
  perl 5.36           no  (perl, libperl.so)
  tcl 8.6             no  (libtcl8.6.so)
"""
from __future__ import annotations

import os
from collections.abc import Callable
from ...record import field, record

from ...errors import AttachError, BPFError

# Cookie fields (see include/pybcc/langs.h): 4 bits per argument number,
# counted from 1 as bcc's bpf_usdt_readarg(N) does; 0 = not there.
CLASS, CLASS_LEN, METHOD, METHOD_LEN = 0, 4, 8, 12
RETURN_BIT = 1 << 16
LANG_STR = 80       # bytes of a class or method name, NUL included (bcc's)


def cookie_of(class_arg=0, class_len=0, method_arg=0, method_len=0, is_return=False):
    return (class_arg << CLASS | class_len << CLASS_LEN | method_arg << METHOD |
            method_len << METHOD_LEN | (RETURN_BIT if is_return else 0))


@record(frozen=True)
class Calls:
    """A method entry/return probe pair and where its names are."""
    entry: str
    ret: str
    class_arg: int = 0          # 0: no class (Tcl)
    class_len: int = 0          # argument with the class name's length (Java)
    method_arg: int = 0
    method_len: int = 0

    def cookie(self, is_return=False):
        return cookie_of(self.class_arg, self.class_len, self.method_arg, self.method_len,
                         is_return)


@record(frozen=True)
class GC:
    """A GC begin/end probe pair: the numbers to keep at begin (fields 1-2),
    the numbers (fields 3-4) and strings to read at end, and the text."""
    begin: str
    end: str
    describe: Callable
    begin_args: tuple[int, int] = (0, 0)
    end_args: tuple[int, int] = (0, 0)
    strings: tuple[tuple[int, int], tuple[int, int]] = ((0, 0), (0, 0))
    which_arg: int = 0      # the argument telling apart pairs that nest (Java's pool)

    def cookies(self, index):
        """(begin's, end's) cookies (ugc.bpf.c): the pair's index, 4-bit
        argument numbers, and the "which" argument at bit 32."""
        def pack(nrs):
            return index | sum(nr << (8 + 4 * i) for i, nr in enumerate(nrs)) | \
                self.which_arg << 32
        return pack(self.begin_args), pack(self.end_args + self.strings[0] + self.strings[1])


@record(frozen=True)
class Alloc:
    """An allocation probe: the argument with the type name (and its
    length), the one with the size, or a fixed name for the probe."""
    probe: str
    name_arg: int = 0
    name_len: int = 0
    size_arg: int = 0
    fixed_name: str = ""


@record(frozen=True)
class Lang:
    name: str
    provider: str
    no_probes: str = ""                 # why Debian's build has none ("" when it has)
    calls: Calls | None = None
    more_calls: tuple[Calls, ...] = ()  # uflow also follows these (Ruby's C methods)
    hint: str = ""                      # bcc's "If you do not see any results ..."
    gc: tuple[GC, ...] = ()
    allocs: tuple[Alloc, ...] = ()
    stats: dict[str, str] = field(default_factory=dict)     # probe → ustat category
    comms: tuple[str, ...] = ()
    # probes whose semaphore must be up for a probe to fire (CPython 3.11)
    needs: dict[str, str] = field(default_factory=dict)


def _node_gc(e):
    kinds = {1: "GC scavenge", 2: "GC mark-sweep-compact", 4: "GC incremental mark",
             8: "GC weak callbacks"}
    return ", ".join(d for bit, d in kinds.items() if e.field3 & bit)


LANGS = {lang.name: lang for lang in [
    Lang("java", "hotspot",
         calls=Calls("method__entry", "method__return", 2, 3, 4, 5),
         hint="If you do not see any results, make sure you ran java with option "
              "-XX:+ExtendedDTraceProbes",
         gc=(GC("mem__pool__gc__begin", "mem__pool__gc__end",
                lambda e: "%s %s used=%d->%d max=%d->%d" % (
                    e.string1, e.string2, e.field1, e.field3, e.field2, e.field4),
                begin_args=(6, 8), end_args=(6, 8), strings=((1, 2), (3, 4)), which_arg=3),
             GC("gc__begin", "gc__end", lambda e: "no additional info available")),
         allocs=(Alloc("object__alloc", name_arg=2, name_len=3, size_arg=4),),
         stats={"gc__begin": "GC", "mem__pool__gc__begin": "GC", "thread__start": "THREAD",
                "class__loaded": "CLOAD", "object__alloc": "OBJNEW",
                "method__entry": "METHOD", "ExceptionOccurred__entry": "EXCP"},
         comms=("java",)),
    Lang("node", "node",
         no_probes="Debian 12's nodejs (18) and nodesource's (20) are built without "
                   "USDT probes (configure --with-dtrace)",
         gc=(GC("gc__start", "gc__done", _node_gc, end_args=(1, 0)),),
         stats={"gc__start": "GC"}, comms=("node",)),
    Lang("perl", "perl",
         no_probes="Debian 12's perl is built without USDT probes (-Dusedtrace)",
         calls=Calls("sub__entry", "sub__return", 2, 0, 1, 0),
         stats={"sub__entry": "METHOD"}, comms=("perl",)),
    Lang("php", "php",
         calls=Calls("function__entry", "function__return", 4, 0, 1, 0),
         hint="If you do not see any results, make sure the environment variable "
              "USE_ZEND_DTRACE is set to 1",
         stats={"function__entry": "METHOD", "compile__file__entry": "CLOAD",
                "exception__thrown": "EXCP"},
         comms=("php",)),
    Lang("python", "python",
         calls=Calls("function__entry", "function__return", 1, 0, 2, 0),
         gc=(GC("gc__start", "gc__done",
                lambda e: "gen %d GC collected %d objects" % (e.field1, e.field3),
                begin_args=(1, 0), end_args=(1, 0)),),
         stats={"function__entry": "METHOD", "gc__start": "GC"},
         comms=("python",),
         # CPython 3.11 runs its function__entry probe only on its tracing
         # path, which it takes only while python:line is enabled
         needs={"function__entry": "line"}),
    Lang("ruby", "ruby",
         calls=Calls("method__entry", "method__return", 1, 0, 2, 0),
         more_calls=(Calls("cmethod__entry", "cmethod__return", 1, 0, 2, 0),),
         hint="Ruby 2.5+ fires method__entry/return (Ruby methods) only while the process "
              "has a TracePoint enabled (TracePoint.new(:call, :return) {}.enable); C "
              "methods (cmethod__*) always fire",
         gc=(GC("gc__mark__begin", "gc__mark__end", lambda e: "GC mark stage"),
             GC("gc__sweep__begin", "gc__sweep__end", lambda e: "GC sweep stage")),
         allocs=(Alloc("object__create", name_arg=1),
                 Alloc("string__create", size_arg=1, fixed_name="string"),
                 Alloc("hash__create", size_arg=1, fixed_name="hash"),
                 Alloc("array__create", size_arg=1, fixed_name="array")),
         stats={"method__entry": "METHOD", "cmethod__entry": "METHOD",
                "gc__mark__begin": "GC", "gc__sweep__begin": "GC",
                "object__create": "OBJNEW", "hash__create": "OBJNEW",
                "string__create": "OBJNEW", "array__create": "OBJNEW",
                "require__entry": "CLOAD", "load__entry": "CLOAD", "raise": "EXCP"},
         comms=("ruby", "irb")),
    Lang("tcl", "tcl",
         no_probes="Debian 12's tcl8.6 is built without USDT probes (--enable-dtrace)",
         calls=Calls("proc__entry", "proc__return", 0, 0, 1, 0),
         allocs=(Alloc("obj__create", fixed_name="<ALL>"),),
         stats={"proc__entry": "METHOD", "obj__create": "OBJNEW"},
         comms=("tclsh", "wish")),
]}

# ustat's columns, in order
CATEGORIES = ("METHOD", "GC", "OBJNEW", "CLOAD", "EXCP", "THREAD")

# (filled to 78 columns; a literal, so importing a u* tool needs no textwrap)
HELP_PYTHON = """\
Python: CPython 3.11 fires function__entry only while its python:line probe is
enabled: the tool raises python:line's semaphore too (with a do-nothing uprobe
on the interpreter's entry point, not one trap per line), which puts the
traced interpreter on its tracing path: a tight loop of calls ran ~9x slower
with the semaphore alone (a uprobe on python:line: ~45x)."""


def detect_language(pid, candidates):
    """bcc's guess at a process's runtime: the executable's path, then the
    libraries it maps (/libjava..., /libruby...); "c" when only libc."""
    names = [c for c in ("java", "node", "perl", "php", "python", "ruby", "tcl")
             if c in candidates]
    try:
        exe = os.path.realpath(f"/proc/{pid}/exe")
        with open(f"/proc/{pid}/maps") as f:
            paths = [ln.split(None, 5)[5].strip() for ln in f if len(ln.split(None, 5)) == 6]
    except OSError:
        return None
    for n in names:
        if n in exe:
            return n
    for p in paths:
        for n in names:
            if f"/lib{n}" in p:
                return n
    if "c" in candidates and any("/libc.so" in p or "/libc-" in p for p in paths):
        return "c"
    return None


_probe_files = {}


def probe_file(pid, lang):
    """(path, [Location]) of the object of process ``pid`` that has the
    runtime's USDT probes (the interpreter, libjvm.so, libruby, ...); None
    when it maps none."""
    from ...usdt import notes
    for path, _seen in notes.process_objects(pid):
        try:
            st = os.stat(path)
        except OSError:
            continue
        key = (st.st_dev, st.st_ino, st.st_mtime)
        if key not in _probe_files:
            locs = [loc for loc in notes.read_probes(path) if loc.provider == lang.provider]
            _probe_files[key] = locs
        if _probe_files[key]:
            return path, _probe_files[key]
    return None


def no_probes_message(lang, pid):
    why = f": {lang.no_probes}" if lang.no_probes else ""
    return f"process {pid} has no {lang.name} USDT probes (provider {lang.provider}){why}"


class Attacher:
    """Attaches a tool's programs to one runtime's probes in one process
    (``pid``), or in every process that maps its probe file (pid -1)."""

    def __init__(self, tool, lang, pid, path=None, locations=None):
        self.tool, self.lang, self.pid = tool, lang, pid
        if path is None:
            found = probe_file(pid, lang)
            if found is None:
                raise AttachError(no_probes_message(lang, pid))
            path, locations = found
        self.path = path
        self.names = {loc.name for loc in locations}
        self.locations = locations
        self.enabled = set()

    def has(self, probe):
        return probe in self.names

    def attach(self, prog, probe, cookie=0, required=True):
        """Attach ``prog`` to the runtime's ``probe``; False when the
        runtime lacks it and it is not ``required``."""
        from ... import usdt
        if not self.has(probe):
            if required:
                raise AttachError(f"{self.path} has no USDT probe {self.lang.provider}:"
                                  f"{probe} (it has: {', '.join(sorted(self.names))})")
            return False
        link = usdt.attach_usdt(self.tool.coll, prog, self.path, self.lang.provider, probe,
                                pid=self.pid, cookie=cookie, locations=self.locations)
        self._record(link)
        needed = self.lang.needs.get(probe)
        if needed and needed not in self.enabled and self.has(needed):
            self.enable_semaphore(needed)
        return True

    def _record(self, link):
        self.tool.links.append(link)
        self.tool.mechanisms.append(link.description)
        if os.environ.get("PYBCC_DEBUG"):
            import sys
            print(f"pybcc: attached {link.description}", file=sys.stderr)

    def enable_semaphore(self, probe):
        """Raise ``probe``'s semaphore without a breakpoint where the probe
        fires: a do-nothing uprobe whose ref_ctr_offset is that semaphore,
        put on the file's entry point (run once, at exec), so the runtime
        takes the probe's path but no line traps. Files without an entry
        point get the uprobe on the probe itself (a trap each time)."""
        from ...attach.uprobe import attach_uprobe
        loc = next(loc for loc in self.locations if loc.name == probe)
        if not loc.semaphore_offset:
            return
        prog = self.tool.coll.load_program("semaphore_holder")
        offset = entry_offset(self.path)
        link = None
        if offset is not None:
            try:
                link = attach_uprobe(prog.fd, self.path, offset=offset, pid=self.pid,
                                     ref_ctr_offset=loc.semaphore_offset)
            except BPFError:
                link = None      # e.g. someone else's uprobe there with another ref_ctr
        if link is None:
            link = attach_uprobe(prog.fd, self.path, offset=loc.offset, pid=self.pid,
                                 ref_ctr_offset=loc.semaphore_offset)
        link.description = f"semaphore of usdt {self.lang.provider}:{probe} ({link.description})"
        self._record(link)
        self.enabled.add(probe)


def entry_offset(path):
    """File offset of an executable's entry point, None for a library."""
    from ...symbols.elf import ElfError, ElfFile, PT_LOAD
    try:
        with ElfFile.open(path) as elf:
            if not elf.entry:
                return None
            for s in elf.segments:
                if s.type == PT_LOAD and s.flags & 1 and s.vaddr <= elf.entry < s.vaddr + s.filesz:
                    return elf.entry - s.vaddr + s.offset
    except (OSError, ElfError):
        pass
    return None


def language_arg(candidates, pid, default=None):
    """-l's value, else bcc's detection from the process; None if neither."""
    return default or detect_language(pid, candidates)


# --- the command line the u* tools share ------------------------------------

def add_common_args(p, candidates, language_help="language to trace", pid_help=None):
    """-l LANG, the pid, -v and --ebpf, as bcc's u* tools take them."""
    import argparse
    from .args import pid
    p.add_argument("-l", "--language", choices=candidates, help=language_help)
    p.add_argument("pid", type=pid, help=pid_help or "process id to attach to")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="verbose mode: print the BPF program (for debugging purposes)")
    p.add_argument("--ebpf", action="store_true", help=argparse.SUPPRESS)


def language_of(args, candidates, tool, required=True):
    """-l's language, else the process's (bcc's detection); one line and
    exit when none and ``required``. Then -v/--ebpf (show_source)."""
    from .runtime import fail
    language = args.language or detect_language(args.pid, candidates)
    if required and not language:
        fail("No language detected; use -l to trace a language.")
    show_source(args, tool)
    return language


def show_source(args, tool):
    """-v/--ebpf: print the tool's BPF C (the same for every language: the
    probes' argument numbers travel in the attachments' cookies); --ebpf
    then exits."""
    if args.ebpf or args.verbose:
        import sys
        from .prebuilt import TOOLS_DIR
        with open(os.path.join(TOOLS_DIR, tool + ".bpf.c")) as f:
            print(f.read())
        if args.ebpf:
            sys.exit(0)
