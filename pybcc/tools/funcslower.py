"""funcslower: trace kernel or user function calls slower than a threshold (bcc's flags and output)."""
import sys

from ..kernel import features
from ..output.table import Column, Table, write_json
from .lib.args import add_duration_and_json, add_ebpf, pid, positive_float, positive_int, tool_parser
from .lib.funcprobes import print_source, resolve
from .lib.runtime import Tool, run_tool, status, stream_events
from .lib.timestamps import SinceFirst, wall_clock

EXAMPLES = """examples:
  ./funcslower vfs_write        # trace vfs_write calls slower than 1ms
  ./funcslower -m 10 vfs_write  # same, but slower than 10ms
  ./funcslower -u 10 c:open     # trace open calls slower than 10us
  ./funcslower -p 135 c:open    # trace pid 135 only
  ./funcslower c:malloc c:free  # trace both malloc and free slower than 1ms
  ./funcslower -a 2 c:open      # show first two arguments to open
  ./funcslower -UK -m 10 c:open # Show user and kernel stack frame of open calls slower than 10ms
  ./funcslower -f -UK c:open    # Output in folded format for flame graphs
  ./funcslower --json c:usleep  # NDJSON, one object per call (pybcc)

Kernel functions need kprobes; user functions (LIB:FUNC) use uprobes and
work on every kernel.
"""


def parse_args(argv):
    p = tool_parser("funcslower", "Trace slow kernel or user function calls.", EXAMPLES)
    p.add_argument("-p", "--pid", type=pid, metavar="PID", dest="tgid",
                   help="trace this PID only")
    p.add_argument("-m", "--min-ms", type=positive_float, dest="min_ms",
                   help="minimum duration to trace (ms)")
    p.add_argument("-u", "--min-us", type=positive_float, dest="min_us",
                   help="minimum duration to trace (us)")
    p.add_argument("-a", "--arguments", type=positive_int, choices=range(1, 7),
                   metavar="{1..6}", help="print this many entry arguments, as hex")
    p.add_argument("-T", "--time", action="store_true", help="show HH:MM:SS timestamp")
    p.add_argument("-t", "--timestamp", action="store_true",
                   help="show timestamp in seconds at us resolution")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="print the BPF program for debugging purposes")
    p.add_argument(metavar="function", nargs="+", dest="functions", help="function(s) to trace")
    p.add_argument("-f", "--folded", action="store_true",
                   help="output folded format, one line per stack (for flame graphs)")
    p.add_argument("-U", "--user-stack", action="store_true", help="output user stack trace")
    p.add_argument("-K", "--kernel-stack", action="store_true", help="output kernel stack trace")
    add_duration_and_json(p)
    add_ebpf(p, "funcslower")
    return p.parse_args(argv)


def columns(args, unit, names):
    time_col = None
    if args.time:
        time_col = Column("TIME", "%-10s ", wall_clock)
    elif args.timestamp:
        time_col = Column("TIME", "%-10.6f ", SinceFirst("start_ns", 1e9), head="%-10s ")
    div = 1000 if args.min_us else 1000000
    return [
        time_col,
        Column("COMM", "%-14.14s ", "comm", head="%-14s "),
        Column("PID", "%-6s ", lambda e: e.tgid_pid >> 32),
        Column(f"LAT({unit})", "%7.2f ", lambda e: e.duration_ns / div, key="lat"),
        Column("RVAL", "%16x ", "retval", head="%16s "),
        Column("FUNC", "%s " if args.arguments or not args.json else "%s",
               lambda e: names[e.id], head="%s " if args.arguments else "%s"),
        Column("ARGS", "%s", lambda e: " ".join("0x%x" % a for a in e.args[:args.arguments]),
               json=lambda e: list(e.args[:args.arguments])) if args.arguments else None,
    ]


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    probes = [resolve(f, False, args.tgid, kinds="p") for f in args.functions]
    for p in probes:
        p.require_kprobes()
    names = [n for p in probes for n in p.names]
    unit = "us" if args.min_us else "ms"
    value = args.min_us or args.min_ms or 1
    min_ns = int(args.min_us * 1000) if args.min_us else int((args.min_ms or 1) * 1000000)
    constants = {"min_ns": min_ns, "user_stacks": args.user_stack,
                 "kernel_stacks": args.kernel_stack, "has_cookie": features.has_bpf_cookie()}
    if args.tgid:
        constants["targ_tgid"] = args.tgid
    if args.verbose:
        print_source("funcslower")
    table = Table(columns(args, unit, names), json=args.json)
    stacks = args.user_stack or args.kernel_stack

    with Tool("funcslower", constants, events=True) as tool:
        printer = None
        if stacks:      # (without -U/-K, not even the stack map is opened)
            from .lib.stacks import StackPrinter, folded_line, frames_json
            printer = StackPrinter(tool.maps["stack_traces"], user=args.user_stack,
                                   kernel=args.kernel_stack, delimited=args.folded,
                                   missed_markers=False)
        first = 1
        for p in probes:
            failed = p.attach(tool, "func_entry", first_cookie=first)
            failed += p.attach(tool, "func_return", retprobe=True, first_cookie=first)
            for name, e in failed:
                print(f"warning: {name} not traced: {e}", file=sys.stderr)
            first += len(p.names)
        decode = tool.record("event").decode
        out = sys.stdout

        def show(data):
            e = decode(data)
            stack = printer.stack(e.comm.decode(errors="replace"), e.tgid_pid >> 32,
                                  e.user_stack_id, e.kernel_stack_id, 1) if stacks else None
            if args.json:
                row = table.as_dict(e)
                if stack is not None:
                    row.update(frames_json(stack))
                write_json(row)
            elif args.folded:
                if stack is not None:
                    out.write(folded_line(printer.folded_frames(stack), 1))
            else:
                out.write(table.format(e))
                if stack is not None:
                    out.write("".join(ln + "\n" for ln in printer.lines(stack)))

        tool.open_events(show)
        # folded: stdout carries only the stacks; the status line goes to stderr
        status("Tracing function calls slower than %g %s... Ctrl+C to quit." % (value, unit),
               args.json or args.folded)
        if not args.folded:
            table.print_header()
        stream_events(tool, args.duration)
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
