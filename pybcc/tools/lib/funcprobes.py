"""The function patterns of bcc's funccount/funclatency/funcinterval/funcslower.

A pattern names kernel functions (FUNC, p::FUNC), user functions (LIB:FUNC,
p:LIB:FUNC, /PATH:FUNC), tracepoints (t:CAT:EVENT) or USDT probes
(u:LIB:PROBE); '*' is a wildcard unless the tool's -r makes it a regex.
``Probes`` resolves one pattern to its targets and attaches a program to
each with a BPF cookie (target index + 1), so one compiled object serves any
number of targets and the BPF side tells them apart by cookie.
"""
import os
import re
import sys

from ...attach import alternatives, kprobe, tracepoint, uprobe
from ...errors import AttachError, BPFError, NotSupportedError
from ...kernel import features, tracefs
from ...symbols import elfsyms
from ...symbols.ifunc import implementation_offset
from ...symbols.libpath import resolve_module
from .procutil import last_words

MAX_PROBES = 4096          # the per-target arrays of the tools' BPF side


def parse_pattern(pattern, use_regex=False):
    """(type, library, regex) of a probe specifier; raises ValueError."""
    parts = pattern.split(":")
    if len(parts) == 1:
        kind, lib, pat = "p", "", parts[0]
    elif len(parts) == 2:
        kind, lib, pat = "p", parts[0], parts[1]
    elif len(parts) == 3:
        kind, lib, pat = parts
        if kind == "t":
            lib, pat = "", f"{parts[1]}:{parts[2]}"
        elif kind not in ("p", "u"):
            raise ValueError(f"Type must be 'p', 't', or 'u', but got {kind}")
    else:
        raise ValueError(f"Too many ':'-separated components in pattern {pattern}")
    if not use_regex:
        pat = "^" + pat.replace("*", ".*") + "$"
    return kind, lib, pat


def probe_limit():
    return int(os.environ.get("BCC_PROBE_LIMIT", 1000))


def _filter_functions():
    """available_filter_functions when readable (the probeable set), else None."""
    try:
        with open(tracefs.path("available_filter_functions")) as f:
            return {line.split()[0] for line in f if line.strip()}
    except (OSError, BPFError):
        return None


def kernel_functions(regex):
    pat = re.compile(regex)
    allowed, banned = _filter_functions(), last_words("/sys/kernel/debug/kprobes/blacklist")
    by_addr = {}                  # address → its names (aliases share one)
    with open("/proc/kallsyms") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 3 and parts[1] in "tT":
                by_addr.setdefault(parts[0], []).append(parts[2])
    names = set()
    for aliases in by_addr.values():
        # available_filter_functions names one alias per address
        if allowed is not None and not any(a in allowed for a in aliases):
            continue
        for name in aliases:
            # .cold parts are not functions of their own; __pfx_ is padding
            if re.search(r"\.cold(\.\d+)?$", name) or name.startswith("__pfx_") or \
                    name in banned:
                continue
            if pat.match(name):
                names.add(name)
    return sorted(names)


# what parse_pattern makes of a name without wildcards
_LITERAL = re.compile(r"\^([\w@]+)\$")


def user_functions(path, regex):
    """[(name, file offset)], one per address (aliases share an address); an
    IFUNC counts where its chosen implementation runs."""
    literal = _LITERAL.fullmatch(regex)
    if literal:     # one name: read its symbol records only, not the file's whole table
        sym = elfsyms.find(path, literal.group(1))
        syms = [sym] if sym is not None else []
    else:
        syms = elfsyms.load(path).match(regex)
    out = []
    for sym in syms:
        off = sym.offset
        if sym.ifunc:
            off = implementation_offset(path, sym.name) or off
        out.append((sym.name, off))
    return out


def tracepoints(regex):
    """["category:name"] of the tracepoints ``regex`` matches (re.match)."""
    literal = re.fullmatch(r"\^(\w+):(\w+)\$", regex)
    if literal:     # one name: is it there? (not a read of the whole list and ~2,300 matches)
        return [regex[1:-1]] if tracefs.tracepoint_exists(*literal.groups()) else []
    pat = re.compile(regex)
    return [tp for tp in tracefs.list_tracepoints() if pat.match(tp)]


def usdt_probes(target, regex):
    """[(provider, name, path)] of the USDT probes of ``target`` (a library or
    binary path, or a pid) whose name matches."""
    from ... import usdt
    pat = re.compile(regex)
    return [(p.provider, p.name, p.bin_path) for p in usdt.list_probes(target)
            if pat.match(p.name)]


class Probes:
    """The targets one pattern matches. ``kinds``: the probe types the tool
    takes (a subset of "ptu")."""

    def __init__(self, pattern, use_regex, pid, kinds="ptu"):
        self.pattern = pattern
        self.kind, lib, self.regex = parse_pattern(pattern, use_regex)
        self.pid = pid
        self.library = ""
        if self.kind not in kinds:
            what = {"t": "tracepoints", "u": "USDT probes", "p": "functions"}[self.kind]
            raise ValueError(f"{what} ({pattern}) are not supported by this tool")
        if self.kind == "u" and not lib and not pid:
            raise ValueError(f"USDT probe {pattern}: give its binary or library "
                             f"(u:LIB:PROBE) or -p PID")
        if lib:
            self.library = resolve_module(lib, pid)
            if not self.library:
                raise ValueError(f"unable to find library {lib}")
        self.offsets = self.usdt = None
        if self.kind == "t":
            self.names = tracepoints(self.regex)
        elif self.kind == "u":
            found = usdt_probes(pid or self.library, self.regex)
            if self.library and pid:
                found = [f for f in found if os.path.realpath(f[2]) ==
                         os.path.realpath(self.library)] or found
            self.usdt = found
            self.names = [name for _, name, _ in found]
        elif self.library:
            found = user_functions(self.library, self.regex)
            self.names = [n for n, _ in found]
            self.offsets = [o for _, o in found]
        else:
            self.names = kernel_functions(self.regex)
        if not self.names:
            raise ValueError(f"No functions matched by pattern {self.regex}")
        limit = min(probe_limit(), MAX_PROBES)
        if len(self.names) > limit:
            raise ValueError(f"maximum of {limit} probes allowed, attempted {len(self.names)}")

    @property
    def user(self):
        return bool(self.library) or self.kind == "u"

    def attach(self, tool, probe_prog, tracepoint_prog=None, multi_prog=None, usdt_prog=None,
               retprobe=False, first_cookie=1):
        """Attach the tool's program for this kind to every target (``retprobe``:
        at function return), with cookies from ``first_cookie`` on (0: none,
        for tools that do not tell targets apart; kernels before 5.15 have no
        BPF cookies); returns [(name, error)] of those that failed."""
        if first_cookie and self.kind != "u" and not features.has_bpf_cookie():
            self._without_cookies(first_cookie)
            first_cookie = 0    # the one probe: the BPF side reads no cookie

        def cookie(i):
            return first_cookie + i if first_cookie else 0
        if self.kind == "t":
            prog = tool.coll.load_program(tracepoint_prog)
            return self._each(tool, lambda i, n: tracepoint.attach_tracepoint(
                prog.fd, n, cookie=cookie(i)))
        if self.kind == "u":
            from ... import usdt
            prog = tool.coll.load_program(usdt_prog)
            return self._each(tool, lambda i, n: usdt.attach_usdt(
                tool.coll, prog, self.usdt[i][2], self.usdt[i][0], n,
                pid=self.pid or -1, cookie=cookie(i)))
        if self.library:
            prog = tool.coll.load_program(probe_prog)
            return self._each(tool, lambda i, n: uprobe.attach_uprobe(
                prog.fd, self.library, offset=self.offsets[i], pid=self.pid or -1,
                retprobe=retprobe, cookie=cookie(i)))
        self.require_kprobes()
        if multi_prog and len(self.names) > 1 and features.has_kprobe_multi():
            # one link for all functions: much faster to set up than N kprobes
            try:
                prog = tool.coll.load_program(multi_prog)
                tool.links.append(kprobe.attach_kprobe_multi(
                    prog.fd, self.names, retprobe=retprobe,
                    cookies=[cookie(i) for i in range(len(self.names))] if first_cookie else None))
                return []
            except BPFError:
                pass
        prog = tool.coll.load_program(probe_prog)
        return self._each(tool, lambda i, n: kprobe.attach_kprobe(
            prog.fd, n, retprobe=retprobe, cookie=cookie(i)))

    def _without_cookies(self, first_cookie):
        """Before 5.15 the tools' programs cannot tell probes apart (they read
        no cookie, LINUX_HAS_BPF_COOKIE being 0), so only one probe in all
        (the first, ``first_cookie`` 1) can be told apart: refuse more."""
        if len(self.names) > 1 or first_cookie > 1:
            raise NotSupportedError(
                f"{self.pattern}: more than one probe at a time needs BPF cookies "
                f"(Linux 5.15+) to tell them apart, which this kernel lacks",
                feature="bpf_cookie", alternative="one function per run")

    def require_kprobes(self):
        if self.kind == "p" and not self.library and not features.has_kprobes():
            raise NotSupportedError(
                f"kprobes are not available on this kernel (CONFIG_KPROBES off?), so kernel "
                f"functions ({self.pattern}) cannot be traced here; they can where kprobes "
                f"exist", feature="kprobe",
                alternative="tracepoints: t:CATEGORY:EVENT, e.g. "
                            "'t:syscalls:sys_enter_open*'" + self._tracepoint_hint())

    def _tracepoint_hint(self):
        if len(self.names) == 1:
            tp = alternatives.tracepoint_for_function(self.names[0])
            if tp:
                return f" (for {self.names[0]}: t:{tp})"
        return ""

    def _each(self, tool, attach_one):
        failed = []
        for i, name in enumerate(self.names):
            try:
                link = attach_one(i, name)
                tool.links.append(link)
                tool.mechanisms.append(link.description)
                if os.environ.get("PYBCC_DEBUG"):
                    print(f"pybcc: attached {link.description}", file=sys.stderr)
            except AttachError as e:
                failed.append((name, e))
        if len(failed) == len(self.names):
            raise failed[0][1]
        return failed


def add_summary_args(p):
    """-p, -i, -d and -T, as funccount, funclatency and funcinterval have them."""
    from .args import pid, positive_int
    p.add_argument("-p", "--pid", type=pid, help="trace this PID only")
    p.add_argument("-i", "--interval", type=positive_int, help="summary interval, in seconds")
    p.add_argument("-d", "--duration", type=positive_int,
                   help="total duration of trace, in seconds")
    p.add_argument("-T", "--timestamp", action="store_true", help="include timestamp on output")


def add_unit_args(p):
    """-u/-m of the histogram tools (funclatency, funcinterval), and -v."""
    p.add_argument("-u", "--microseconds", action="store_true", help="microsecond histogram")
    p.add_argument("-m", "--milliseconds", action="store_true", help="millisecond histogram")


def time_unit(args):
    """(label, nanoseconds per unit) as -u/-m choose."""
    if args.milliseconds:
        return "msecs", 1000000
    if args.microseconds:
        return "usecs", 1000
    return "nsecs", 1


def print_source(tool_name):
    """-v: the tool's BPF C, as bcc prints its program."""
    from .runtime import TOOLS_DIR
    with open(os.path.join(TOOLS_DIR, tool_name + ".bpf.c")) as f:
        print(f.read())


def resolve(pattern, use_regex, pid, kinds="ptu"):
    """Probes(...), or exit 2 with one line when the pattern names nothing."""
    from .runtime import fail
    try:
        return Probes(pattern, use_regex, pid, kinds)
    except ValueError as e:
        fail(str(e), code=2)
    except FileNotFoundError as e:   # a library or binary that is not there
        fail(f"can't read {e.filename}: {e.strerror}", code=2)


def summarize(probes, failed, args, report, header=None):
    """Say what failed to attach and what is traced (``header``, or bcc's
    "Tracing N functions for ..."), then report each -i interval (or at -d
    or Ctrl-C) until the end."""
    from .report import FOREVER, report_loop
    from .runtime import status
    for name, e in failed:
        print(f"warning: {name} not traced: {e}", file=sys.stderr)
    matched = len(probes.names) - len({name for name, _ in failed})
    status(header or 'Tracing %d functions for "%s"... Hit Ctrl-C to end.' % (
        matched, args.pattern), args.json)
    report_loop(report, args.interval or FOREVER, None, args.duration, args.json,
                args.timestamp)
    status("Detaching...", args.json)
