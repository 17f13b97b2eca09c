"""stackcount: count events and their stack traces (bcc's flags, probe syntax and output).

Probes: ``func`` or ``p::func`` or ``k:func`` (kernel function: kprobe),
``lib:func`` or ``p:lib:func`` (user function: uprobe), ``t:cat:event``
(tracepoint), ``u:lib:probe`` (USDT probe); ``*`` wildcards, or regular
expressions with -r.
"""
import argparse
import os
import re
import sys
import time

from .. import symbols
from ..errors import AttachError, LoadError, NotSupportedError
from ..kernel import features, tracefs
from .lib.runtime import TOOLS_DIR, Tool, fail, run_tool
from .lib.stacks import stack_id_err
from .lib import stackfile

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


def parse_args(argv):
    p = argparse.ArgumentParser(description="Count events and their stack traces",
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=EXAMPLES)
    p.add_argument("-p", "--pid", type=int, help="trace this PID only")
    p.add_argument("-c", "--cpu", type=int, help="trace this CPU only")
    p.add_argument("-i", "--interval", help="summary interval, seconds")
    p.add_argument("-D", "--duration", help="total duration of trace, seconds")
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
    p.add_argument("-f", "--folded", action="store_true", help="output folded format")
    p.add_argument("--debug", action="store_true",
                   help="print BPF program before starting (for debugging purposes)")
    p.add_argument("pattern", help="search expression for events")
    stackfile.add_arguments(p)
    return p.parse_args(argv)


class ProbeError(Exception):
    pass


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
        if not path:
            raise ProbeError("unable to find library %s" % library)
        library = path
    return kind, library, rx


def attach_probes(tool, kind, library, rx, pid):
    """Attach the counting program everywhere the probe matches; returns how many."""
    matched = 0
    if kind == "t":
        names = [tp for tp in tracefs.list_tracepoints() if re.match(rx, tp)]
        for tp in names:
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
        for probe in usdt.list_probes(pid if pid else library):
            if not pid and probe.bin_path != library:
                continue
            if re.match(rx, probe.name):
                prog = tool.coll.load_program("count_uprobe")
                link = usdt.attach_usdt(tool.coll, prog, probe.bin_path, probe.provider,
                                        probe.name, pid=pid or -1)
                tool.links.append(link)
                tool.mechanisms.append(link.description)
                matched += 1
    return matched


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    picture = None
    if stackfile.requested(args):
        picture = stackfile.StackFile(args, "stackcount", argv, unit="count", count_name="events",
                                      title="Stack Count Flame Graph")
    quiet = stackfile.quiet(args)
    if args.duration and not args.interval:
        args.interval = args.duration
    if not args.interval:
        args.interval = 99999999
    if args.kernel_stacks_only and args.user_stacks_only:
        fail("ERROR: -K and -U are mutually exclusive. If you want both stacks, that is the default.")
    if args.pid is not None and args.pid > 0:
        args.perpid = True
    need_delimiter = args.delimited and not (args.kernel_stacks_only or args.user_stacks_only)
    try:
        kind, library, rx = parse_probe(args.pattern, args.regexp)
    except ProbeError as e:
        fail(str(e))
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
            fail("No functions matched by pattern %s" % rx)
        if not quiet:
            print('Tracing %d functions for "%s"... Hit Ctrl-C to end.' % (matched, args.pattern),
                  flush=True)
        if picture:
            picture.start_clock()
        interval, duration = int(args.interval), int(args.duration) if args.duration else 0
        seconds, exiting = 0, False
        while True:
            try:
                time.sleep(interval)
                seconds += interval
            except KeyboardInterrupt:
                exiting = True
            if duration and seconds >= duration:
                exiting = True
            if exiting:     # stop counting before the (slow) last report
                for link in tool.links:
                    link.close()
                tool.links = []
            if not quiet:
                print()
            if args.timestamp and not (picture and quiet):
                print("%-8s" % time.strftime("%H:%M:%S"))
            report(tool, args, need_delimiter, picture, exiting)
            if exiting:
                if not quiet:
                    print("Detaching...")
                sys.stdout.flush()
                return 0


def report(tool, args, need_delimiter, picture=None, final=True):
    """bcc's report of this interval's counts; with ``picture`` (--format,
    -o), the counts add up over the run and go out as one profile (into -o's
    file at each interval, or on stdout at the end)."""
    stacks = tool.maps["stack_traces"]
    out = sys.stdout
    missing = 0

    def kname(addr):
        name = symbols.ksym(addr, show_offset=args.offset)
        return name + "_[k]" if picture and picture.annotate_kernel else name

    def uname(addr, pid):
        return symbols.sym(addr, pid, show_offset=args.offset)

    def frame(addr, name):
        return "  " + ("%-16x " % addr if args.verbose else "") + name

    for k, v in sorted(tool.maps["counts"].pop_all(), key=lambda kv: kv[1]):
        missing += (not args.kernel_stacks_only and stack_id_err(k.user_stack_id)) + \
            (not args.user_stacks_only and stack_id_err(k.kernel_stack_id))
        user = stacks.walk(k.user_stack_id) if k.user_stack_id >= 0 else []
        kernel = stacks.walk(k.kernel_stack_id) if k.kernel_stack_id >= 0 else []
        if args.folded or picture:
            line = ";".join([k.name] + [uname(a, k.tgid) for a in reversed(user)] +
                            (["-"] if need_delimiter else []) + [kname(a) for a in reversed(kernel)])
            if picture:
                line = line.lstrip(";")     # no comm without -P
                picture.stacks[line] = picture.stacks.get(line, 0) + v
            else:
                out.write("%s %d\n" % (line, v))
        else:
            for a in kernel:
                out.write(frame(a, kname(a)) + "\n")
            if need_delimiter:
                out.write("    --\n")
            for a in user:
                out.write(frame(a, uname(a, k.tgid)) + "\n")
            if not args.pid and k.tgid != 0xffffffff:
                out.write("    %s [%d]\n" % (k.name, k.tgid))
            out.write("    %d\n\n" % v)
    out.flush()
    if picture and (final or picture.output):
        if final:
            picture.stop_clock()
        picture.write(picture.stacks)
    if missing:
        print("WARNING: %d stack traces could not be displayed (stack map full or hash "
              "collisions)." % missing, file=sys.stderr)
    dropped = sum(tool.maps["dropped"][0])
    if dropped > tool.lost:
        print("WARNING: %d events were not counted: the counts map is full." %
              (dropped - tool.lost), file=sys.stderr)
        tool.lost = dropped


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
