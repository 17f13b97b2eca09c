"""stackcount: count events and their stack traces (bcc's flags, probe syntax and output).

Probes: ``func`` or ``p::func`` or ``k:func`` (kernel function: kprobe),
``lib:func`` or ``p:lib:func`` (user function: uprobe), ``t:cat:event``
(tracepoint), ``u:lib:probe`` (USDT probe); ``*`` wildcards, or regular
expressions with -r.
"""
import os
import re
import sys

from .. import symbols
from ..errors import AttachError, LoadError, NotSupportedError
from ..kernel import features
from .lib import stackfile
from .lib.args import cpu, pid, positive_int, tool_parser
from .lib.funcprobes import tracepoints
from .lib.report import FOREVER, report_loop
from .lib.runtime import TOOLS_DIR, Tool, fail, run_tool, status
from .lib.stacks import StackPrinter, by_value, detach, folded_line, folded_stacks

EXAMPLES = """examples:
    ./stackcount submit_bio         # count kernel stack traces for submit_bio
    ./stackcount -d ip_output       # include a user/kernel stack delimiter
    ./stackcount -s ip_output       # show symbol offsets
    ./stackcount -sv ip_output      # show offsets and raw addresses (verbose)
    ./stackcount 'tcp_send*'        # count stacks for funcs matching tcp_send*
    ./stackcount -r '^tcp_send.*'   # same as above, using regular expressions
    ./stackcount -Ti 5 ip_output    # output every 5 seconds, with timestamps
    ./stackcount -p 185 ip_output   # count ip_output stacks for PID 185 only
    ./stackcount -c 1 put_prev_entity   # count put_prev_entity stacks for CPU 1 only
    ./stackcount -p 185 c:malloc    # count stacks for malloc in PID 185
    ./stackcount t:sched:sched_fork # count stacks for sched_fork tracepoint
    ./stackcount -p 185 u:node:*    # count stacks for all USDT probes in node
    ./stackcount -K t:sched:sched_switch   # kernel stacks only
    ./stackcount -U t:sched:sched_switch   # user stacks only
    ./stackcount -D 5 -o sw.svg t:sched:sched_switch   # 5 seconds, as a flame graph
"""


JSON_HELP = ("print one JSON object per interval: ts, unit (events) and stacks, each with "
             "comm and pid (with -P or -p), frames (innermost first, each {function, kernel, "
             "address}) and value (pybcc extension)")


def parse_args(argv):
    p = tool_parser("stackcount", "Count events and their stack traces", EXAMPLES)
    p.add_argument("-p", "--pid", type=pid, help="trace this PID only")
    p.add_argument("-c", "--cpu", type=cpu, help="trace this CPU only")
    p.add_argument("-i", "--interval", type=positive_int, help="summary interval, seconds")
    p.add_argument("-D", "--duration", type=positive_int,
                   help="total duration of trace, seconds")
    p.add_argument("-T", "--timestamp", action="store_true", help="include timestamp on output")
    p.add_argument("-r", "--regexp", action="store_true",
                   help='use regular expressions. Default is "*" wildcards only.')
    p.add_argument("-s", "--offset", action="store_true", help="show address offsets")
    p.add_argument("-P", "--perpid", action="store_true",
                   help="display stacks separately for each process")
    p.add_argument("-K", "--kernel-stacks-only", action="store_true", help="kernel stack only")
    p.add_argument("-U", "--user-stacks-only", action="store_true", help="user stack only")
    p.add_argument("-v", "--verbose", action="store_true", help="show raw addresses")
    p.add_argument("-d", "--delimited", action="store_true",
                   help="insert delimiter between kernel/user stacks")
    out = p.add_mutually_exclusive_group()
    out.add_argument("-f", "--folded", action="store_true", help="output folded format")
    out.add_argument("--json", action="store_true", help=JSON_HELP)
    p.add_argument("--debug", action="store_true",
                   help="print BPF program before starting (for debugging purposes)")
    p.add_argument("pattern", help="search expression for events")
    stackfile.add_arguments(p)
    return p.parse_args(argv)


class ProbeError(Exception):
    def __init__(self, message, exit_code=1):
        super().__init__(message)
        self.exit_code = exit_code     # 2: names a library that is not there


def parse_probe(pattern, use_regex):
    """(type, library path or "", anchored regex) from bcc's probe syntax."""
    parts = pattern.split(":")
    if len(parts) == 1:
        parts = ["p", "", parts[0]]
    elif len(parts) == 2:
        parts = ["p", "", parts[1]] if parts[0] == "k" else ["p", parts[0], parts[1]]
    elif len(parts) == 3:
        if parts[0] == "t":
            parts = ["t", "", "%s:%s" % tuple(parts[1:])]
        if parts[0] not in ("p", "t", "u"):
            raise ProbeError("Type must be 'p', 't', or 'u', but got %s" % parts[0])
    else:
        raise ProbeError("Too many ':'-separated components in pattern %s" % pattern)
    kind, library, rx = parts
    if not use_regex:
        rx = "^" + rx.replace("*", ".*") + "$"
    if (kind == "p" and library) or kind == "u":
        path = symbols.find_library(library) or symbols.find_binary(library)
        if not path or not os.path.exists(path):
            raise ProbeError("unable to find library %s" % library, exit_code=2)
        library = path
    return kind, library, rx


def attach_probes(tool, kind, library, rx, pid):
    """Attach the counting program everywhere the probe matches; returns how many."""
    matched = 0
    if kind == "t":
        for tp in tracepoints(rx):
            tool.attach("count_tracepoint", tp.replace(":", "/"))
            matched += 1
    elif kind == "p" and not library:
        if not features.has_kprobes():
            raise NotSupportedError(
                "kernel function probes need kprobes, and this kernel has none "
                "(CONFIG_KPROBES off); count a tracepoint (t:CATEGORY:EVENT) or a user "
                "function (LIBRARY:FUNCTION) instead", feature="kprobe")
        for fn in symbols.kernel_symbols().functions(rx):
            try:
                tool.attach("count_kprobe", fn)
                matched += 1
            except (AttachError, NotSupportedError):
                pass        # not probeable (notrace, inlined): bcc skips these too
    elif kind == "p":
        for s in symbols.load_elf(library).match(rx):
            try:
                tool.attach("count_uprobe", f"{library}:{s.name}", pid=pid or -1)
                matched += 1
            except AttachError:
                pass
    else:   # USDT: each probe is uprobes at its locations (and its semaphore)
        from .. import usdt
        from .lib.probespec import SpecError, attach_usdt_probe    # (it imports the compiler)
        for probe in usdt.list_probes(pid if pid else library):
            if not pid and probe.bin_path != library:
                continue
            if re.match(rx, probe.name):
                try:
                    attach_usdt_probe(tool, "count_uprobe", probe.bin_path, probe.provider,
                                      probe.name, pid or -1)
                except SpecError as e:
                    raise AttachError(str(e)) from None
                matched += 1
    return matched


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    picture = None
    if stackfile.requested(args):
        picture = stackfile.StackFile(args, "stackcount", argv, unit="count", count_name="events",
                                      title="Stack Count Flame Graph")
    quiet = args.folded or stackfile.quiet(args)    # stdout carries only the stacks
    if args.kernel_stacks_only and args.user_stacks_only:
        fail("ERROR: -K and -U are mutually exclusive. If you want both stacks, that is the default.", 2)
    if args.pid is not None:
        args.perpid = True
    try:
        kind, library, rx = parse_probe(args.pattern, args.regexp)
        re.compile(rx)
    except ProbeError as e:
        fail(str(e), e.exit_code)
    except re.error as e:
        fail(f"bad regular expression {rx!r}: {e}", 2)
    constants = {"per_pid": args.perpid, "targ_tgid": args.pid or 0,
                 "targ_cpu": args.cpu if args.cpu is not None else -1,
                 "user_stacks": not args.kernel_stacks_only,
                 "kernel_stacks": not args.user_stacks_only}
    if args.debug:
        with open(os.path.join(TOOLS_DIR, "stackcount.bpf.c")) as f:
            print(f.read())
        print("/* constants: %s; probe: type %s, library %r, pattern %r */"
              % (constants, kind, library, rx))

    with Tool("stackcount", constants) as tool:
        try:
            matched = attach_probes(tool, kind, library, rx, args.pid)
        except (AttachError, LoadError, OSError) as e:
            fail(str(e))
        if matched == 0:
            fail("No functions matched by pattern %s" % rx, 2)
        if not quiet:
            status('Tracing %d functions for "%s"... Hit Ctrl-C to end.' % (matched, args.pattern),
                   args.json)
        if picture:
            picture.start_clock()
        last = []

        def before_last():
            detach(tool)
            last.append(True)
            if picture:
                picture.stop_clock()
        report_loop(lambda json: report(tool, args, json, picture, bool(last)),
                    args.interval or FOREVER, None, args.duration, args.json,
                    args.timestamp and not quiet, blank_line=not quiet, before_last=before_last)
        if not quiet:
            status("Detaching...", args.json)
    return 0


def counted_stacks(tool, args, annotations=False):
    """The counted stacks, emptied from the map, smallest count first, and
    the printer that shows them."""
    printer = StackPrinter(tool.maps["stack_traces"], user=not args.kernel_stacks_only,
                           kernel=not args.user_stacks_only, delimited=args.delimited,
                           always_delimit=True, offsets=args.offset, missed_markers=False,
                           annotations=annotations)
    stacks = by_value(
        printer.stack(k.name, k.tgid, k.user_stack_id, k.kernel_stack_id, v,
                      fields=None if args.perpid else {"comm": None, "pid": None})
        for k, v in tool.maps["counts"].pop_all())
    return printer, stacks


def stack_text(printer, stack, args):
    """bcc's stackcount block: frames two spaces in (with -v their
    addresses), the process (without -p), the count."""
    def frame(f):
        return "  " + ("%-16x " % f.address if args.verbose else "") + f.name + "\n"
    out = "".join(frame(f) for f in stack.kernel or [])
    if printer.delimited:
        out += "    --\n"
    out += "".join(frame(f) for f in stack.user or [])
    if not args.pid and stack.pid != 0xffffffff:
        out += "    %s [%d]\n" % (stack.comm, stack.pid)
    return out + "    %d\n\n" % stack.value


def report(tool, args, json, picture=None, final=True):
    """This interval's counts as bcc prints them; with ``picture`` (--format,
    -o) they add up over the run into one profile, written into -o's file at
    each interval, or on stdout at the end."""
    printer, stacks = counted_stacks(tool, args, bool(picture and picture.annotate_kernel))
    if picture:
        picture.fold(printer, stacks, into=picture.stacks)
        if final or picture.output:
            picture.write(picture.stacks)
        out = ""
    elif json:
        out = {"unit": "events", "stacks": [printer.as_dict(s, "events") for s in stacks]}
    elif args.folded:
        out = "".join(folded_line(frames, value) for frames, value in folded_stacks(printer, stacks))
    else:
        out = "".join(stack_text(printer, s, args) for s in stacks)
    if printer.missing:
        print("WARNING: %d stack traces could not be displayed (stack map full or hash "
              "collisions)." % printer.missing, file=sys.stderr)
    dropped = sum(tool.maps["dropped"][0])
    if dropped > tool.lost:
        print("WARNING: %d events were not counted: the counts map is full." %
              (dropped - tool.lost), file=sys.stderr)
        tool.lost = dropped
    return out


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
