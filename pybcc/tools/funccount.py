"""funccount: count kernel functions, user functions and tracepoints (bcc's flags and output).

Probe specifiers, as bcc's: FUNC or p::FUNC (kernel function), LIB:FUNC or
p:LIB:FUNC or /PATH:FUNC (user function), t:CAT:EVENT (tracepoint),
u:LIB:PROBE (USDT). '*' is a wildcard unless -r makes the pattern a regex.
"""
import os
import re
import sys

from ..attach import alternatives, kprobe, tracepoint, uprobe
from ..errors import AttachError, BPFError, NotSupportedError
from ..kernel import features, tracefs
from ..symbols import elfsyms
from ..symbols.ifunc import implementation_offset
from ..symbols.libpath import resolve_module
from ..output.table import Column, Table
from .lib.args import add_json, cpu, pid, positive_int, tool_parser
from .lib.report import FOREVER, report_loop
from .lib.runtime import TOOLS_DIR, Tool, fail, status

EXAMPLES = """examples:
    ./funccount 'vfs_*'             # count kernel fns starting with "vfs"
    ./funccount -r '^vfs.*'         # same as above, using regular expressions
    ./funccount -Ti 5 'vfs_*'       # output every 5 seconds, with timestamps
    ./funccount -d 10 'vfs_*'       # trace for 10 seconds only
    ./funccount -p 185 'vfs_*'      # count vfs calls for PID 181 only
    ./funccount t:sched:sched_fork  # count calls to the sched_fork tracepoint
    ./funccount -p 185 u:node:gc*   # count all GC USDT probes in node, PID 185
    ./funccount c:malloc            # count all malloc() calls in libc
    ./funccount go:os.*             # count all "os.*" calls in libgo
    ./funccount -p 185 go:os.*      # count all "os.*" calls in libgo, PID 185
    ./funccount ./test:read*        # count "read*" calls in the ./test binary
    ./funccount -c 1 'vfs_*'        # count vfs calls on CPU 1 only
    ./funccount --json -i 1 c:malloc  # NDJSON, one object per 1s interval (pybcc)
"""

MAX_PROBES = 4096          # the counters array in funccount.bpf.c

COLUMNS = [Column("FUNC", "%-36s ", lambda r: r[0]), Column("COUNT", "%8d", lambda r: r[1])]


def parse_args(argv):
    p = tool_parser("funccount", "Count functions, tracepoints, and USDT probes", EXAMPLES)
    p.add_argument("-p", "--pid", type=pid, help="trace this PID only")
    p.add_argument("-i", "--interval", type=positive_int, help="summary interval, seconds")
    p.add_argument("-d", "--duration", type=positive_int,
                   help="total duration of trace, seconds")
    p.add_argument("-T", "--timestamp", action="store_true", help="include timestamp on output")
    p.add_argument("-r", "--regexp", action="store_true",
                   help="use regular expressions. Default is \"*\" wildcards only.")
    p.add_argument("-D", "--debug", action="store_true",
                   help="print BPF program before starting (for debugging purposes)")
    p.add_argument("-c", "--cpu", type=cpu, help="trace this CPU only")
    add_json(p)
    p.add_argument("pattern", help="search expression for events")
    args = p.parse_args(argv)
    try:
        re.compile(parse_pattern(args.pattern, args.regexp)[2])
    except (ValueError, re.error) as e:
        p.error(f"bad pattern {args.pattern!r}: {e}")
    return args


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


def _blacklist():
    try:
        with open("/sys/kernel/debug/kprobes/blacklist") as f:
            return {line.split()[-1] for line in f if line.strip()}
    except OSError:
        return set()


def kernel_functions(regex):
    pat = re.compile(regex)
    allowed, banned = _filter_functions(), _blacklist()
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


def user_functions(path, regex):
    """[(name, file offset)], one per address (aliases share an address); an
    IFUNC counts where its chosen implementation runs."""
    out = []
    for sym in elfsyms.load(path).match(regex):
        off = sym.offset
        if sym.ifunc:
            off = implementation_offset(path, sym.name) or off
        out.append((sym.name, off))
    return out


def tracepoints(regex):
    pat = re.compile(regex)
    return [tp for tp in tracefs.list_tracepoints() if pat.match(tp)]


class Probes:
    """The probes one pattern matches, attached with one counter each."""

    def __init__(self, pattern, use_regex, pid):
        self.pattern = pattern
        self.kind, lib, self.regex = parse_pattern(pattern, use_regex)
        self.pid = pid
        self.library = ""
        if self.kind == "u":
            raise NotSupportedError(f"USDT probes ({pattern}) are not supported by pybcc yet",
                                    feature="usdt",
                                    alternative="a uprobe on the function around the probe "
                                                "(p:LIB:FUNC)")
        if self.kind == "p" and lib:
            self.library = resolve_module(lib, pid)
            if not self.library:
                raise ValueError(f"unable to find library {lib}")
        if self.kind == "t":
            self.names = tracepoints(self.regex)
            self.offsets = None
        elif self.library:
            found = user_functions(self.library, self.regex)
            self.names = [n for n, _ in found]
            self.offsets = [o for _, o in found]
        else:
            self.names = kernel_functions(self.regex)
            self.offsets = None
        if not self.names:
            raise ValueError(f"No functions matched by pattern {self.regex}")
        limit = min(probe_limit(), MAX_PROBES)
        if len(self.names) > limit:
            raise ValueError(f"maximum of {limit} probes allowed, attempted {len(self.names)}")

    def attach(self, tool):
        """Attach every probe; returns the names of those that failed."""
        if self.kind == "t":
            cookie = self._cookies()
            prog = tool.coll.load_program("count_tracepoint")
            return self._each(tool, lambda i, n: tracepoint.attach_tracepoint(
                prog.fd, n, cookie=cookie(i)))
        if self.library:
            cookie = self._cookies()
            prog = tool.coll.load_program("count_probe")
            return self._each(tool, lambda i, n: uprobe.attach_uprobe(
                prog.fd, self.library, offset=self.offsets[i], pid=self.pid or -1,
                cookie=cookie(i)))
        if not features.has_kprobes():
            raise NotSupportedError(
                f"kprobes are not available on this kernel (CONFIG_KPROBES off?), so kernel "
                f"functions ({self.pattern}) cannot be counted here; they can where kprobes "
                f"exist", feature="kprobe",
                alternative="tracepoints: t:CATEGORY:EVENT, e.g. funccount "
                            "'t:syscalls:sys_enter_open*'" + self._tracepoint_hint())
        if len(self.names) > 1 and features.has_kprobe_multi():
            # one link for all functions: much faster to set up than N kprobes
            try:
                prog = tool.coll.load_program("count_kprobe_multi")
                tool.links.append(kprobe.attach_kprobe_multi(
                    prog.fd, self.names, cookies=list(range(1, len(self.names) + 1))))
                return []
            except BPFError:
                pass
        cookie = self._cookies()
        prog = tool.coll.load_program("count_probe")
        return self._each(tool, lambda i, n: kprobe.attach_kprobe(prog.fd, n, cookie=cookie(i)))

    def _cookies(self):
        """probe index → its attach cookie (index + 1). Without BPF cookies the
        program counts everything in counter 0, so only one probe can be told
        apart: refuse several, before anything is attached."""
        if features.has_bpf_cookie():
            return lambda i: i + 1
        if len(self.names) > 1:
            raise NotSupportedError(
                f"{self.pattern} matches {len(self.names)} probes; counting several at once "
                f"needs BPF cookies (Linux 5.15+), which this kernel lacks",
                feature="bpf_cookie", alternative="a pattern that matches one probe per run")
        return lambda i: 0

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
                tool.links.append(attach_one(i, name))
            except AttachError as e:
                failed.append((name, e))
        if len(failed) == len(self.names):
            raise failed[0][1]
        return failed


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        probes = Probes(args.pattern, args.regexp, args.pid)
    except ValueError as e:       # the pattern names nothing: bad input
        fail(str(e), code=2)
    except FileNotFoundError as e:   # a library or binary that is not there
        fail(f"can't read {e.filename}: {e.strerror}", code=2)
    constants = {}
    if args.pid:
        constants["targ_pid"] = args.pid
    if args.cpu is not None:
        constants["targ_cpu"] = args.cpu
    if args.debug:
        with open(os.path.join(TOOLS_DIR, "funccount.bpf.c")) as f:
            print(f.read())
        for i, name in enumerate(probes.names):
            print(f"// cookie {i + 1}: {name}")
    table = Table(COLUMNS, json=args.json)

    def report(json):
        totals = [(name, sum(counts[i])) for i, name in enumerate(probes.names)]
        for i, (_, n) in enumerate(totals):
            if n:
                counts[i] = 0
        rows = sorted(((name, n) for name, n in totals if n), key=lambda r: r[1])
        if json:
            return {"rows": [table.as_dict(r) for r in rows]}
        return "".join(line + "\n" for line in [table.header_text(), *map(table.text, rows)])

    with Tool("funccount", constants) as tool:
        failed = probes.attach(tool)
        for name, e in failed:
            print(f"warning: {name} not traced: {e}", file=sys.stderr)
        matched = len(probes.names) - len(failed)
        counts = tool.maps["counts"]
        status('Tracing %d functions for "%s"... Hit Ctrl-C to end.' % (matched, args.pattern),
               args.json)
        report_loop(report, args.interval or FOREVER, None, args.duration, args.json,
                    args.timestamp)
        status("Detaching...", args.json)
    return 0


if __name__ == "__main__":
    from .lib.runtime import run_tool
    sys.exit(run_tool(main, sys.argv[1:]))
