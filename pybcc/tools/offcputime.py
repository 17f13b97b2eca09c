"""offcputime: summarize off-CPU time by stack trace (bcc's flags and output)."""
import argparse
import sys

from .lib.args import pid, positive_int, tool_parser
from .lib import stackfile
from .lib.runtime import Tool, run_tool
from .lib.stacks import (
    by_value,
    flags_printer,
    missing_warning,
    stack_context,
    trace_until_done,
)

EXAMPLES = """examples:
    ./offcputime             # trace off-CPU stack time until Ctrl-C
    ./offcputime 5           # trace for 5 seconds only
    ./offcputime -f 5        # 5 seconds, and output in folded format
    ./offcputime -m 1000     # trace only events that last more than 1000 usec
    ./offcputime -M 10000    # trace only events that last less than 10000 usec
    ./offcputime -p 185      # only trace threads for PID 185
    ./offcputime -t 188      # only trace thread 188
    ./offcputime -u          # only trace user threads (no kernel)
    ./offcputime -k          # only trace kernel threads (no user)
    ./offcputime -U          # only show user space stacks (no kernel)
    ./offcputime -K          # only show kernel space stacks (no user)
    ./offcputime -o off.svg 5   # 5 seconds, as a flame graph of off-CPU time (µs)
"""

THREADS_ALL, THREADS_TGID, THREADS_TID, THREADS_USER, THREADS_KERNEL = range(5)
U64_MAX = (1 << 64) - 1

JSON_HELP = ("print one JSON object per stack: comm, pid, tid, frames (innermost first, "
             "each {function, kernel, address}), value and unit (us) (pybcc extension)")


def state_mask(text):
    try:
        v = int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid state mask {text!r}") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, not {v}")
    return v


def parse_args(argv):
    p = tool_parser("offcputime", "Summarize off-CPU time by stack trace", EXAMPLES)
    threads = p.add_mutually_exclusive_group()
    threads.add_argument("-p", "--pid", metavar="PID", dest="tgid", type=pid,
                         help="trace this PID only")
    threads.add_argument("-t", "--tid", metavar="TID", dest="pid", type=pid,
                         help="trace this TID only")
    threads.add_argument("-u", "--user-threads-only", action="store_true",
                         help="user threads only (no kernel threads)")
    threads.add_argument("-k", "--kernel-threads-only", action="store_true",
                         help="kernel threads only (no user threads)")
    stacks = p.add_mutually_exclusive_group()
    stacks.add_argument("-U", "--user-stacks-only", action="store_true",
                        help="show stacks from user space only (no kernel space stacks)")
    stacks.add_argument("-K", "--kernel-stacks-only", action="store_true",
                        help="show stacks from kernel space only (no user space stacks)")
    p.add_argument("-d", "--delimited", action="store_true",
                   help="insert delimiter between kernel/user stacks")
    out = p.add_mutually_exclusive_group()
    out.add_argument("-f", "--folded", action="store_true", help="output folded format")
    out.add_argument("--json", action="store_true", help=JSON_HELP)
    p.add_argument("--stack-storage-size", default=1024, type=positive_int,
                   help="the number of unique stack traces that can be stored and "
                        "displayed (default 1024)")
    p.add_argument("duration", nargs="?", default=99999999, type=positive_int,
                   help="duration of trace, in seconds")
    p.add_argument("-m", "--min-block-time", default=1, type=positive_int,
                   help="the amount of time in microseconds over which we store traces (default 1)")
    p.add_argument("-M", "--max-block-time", default=U64_MAX, type=positive_int,
                   help="the amount of time in microseconds under which we store traces "
                        "(default U64_MAX)")
    p.add_argument("--state", type=state_mask,
                   help="filter on this thread state bitmask (eg, 2 == TASK_UNINTERRUPTIBLE) "
                        "see include/linux/sched.h")
    stackfile.add_arguments(p)
    return p.parse_args(argv)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    picture = None
    if stackfile.requested(args):
        picture = stackfile.StackFile(args, "offcputime", argv, unit="us", total_label="%s off-CPU",
                                      title="Off-CPU Time Flame Graph")
    if args.kernel_threads_only and args.user_stacks_only:
        print("ERROR: Displaying user stacks for kernel threads doesn't make sense.", file=sys.stderr)
        return 2
    if args.tgid is not None:
        mode, targ, thread_context = THREADS_TGID, args.tgid, "PID %d" % args.tgid
    elif args.pid is not None:
        mode, targ, thread_context = THREADS_TID, args.pid, "TID %d" % args.pid
    elif args.user_threads_only:
        mode, targ, thread_context = THREADS_USER, 0, "user threads"
    elif args.kernel_threads_only:
        mode, targ, thread_context = THREADS_KERNEL, 0, "kernel threads"
    else:
        mode, targ, thread_context = THREADS_ALL, 0, "all threads"
    constants = {"thread_mode": mode, "targ_id": targ,
                 "filter_state": args.state is not None, "targ_state": args.state or 0,
                 "min_block_us": args.min_block_time,
                 "max_block_us": min(args.max_block_time, U64_MAX),
                 "user_stacks": not args.kernel_stacks_only,
                 "kernel_stacks": not args.user_stacks_only}

    with Tool("offcputime", constants,
                   map_sizes={"stack_traces": args.stack_storage_size}) as tool:
        tool.attach_first("switch_btf", "switch_raw")
        header = "Tracing off-CPU time (us) of %s by %s stack" % (
            thread_context, stack_context(args.user_stacks_only, args.kernel_stacks_only))
        if picture:
            picture.start_clock()
        trace_until_done(tool, header, args.duration, args.folded or stackfile.quiet(args), args.json)
        report(tool, args, picture)
    return 0


def counted_stacks(tool, args, annotations=False):
    """The printer and the off-CPU stacks, least time first."""
    printer = flags_printer(tool, args, skip_tracing=True, annotations=annotations)
    # bcc shows the thread id; user stacks are symbolized by tgid (one
    # symbol table per process)
    stacks = by_value(printer.stack(k.name, k.pid, k.user_stack_id, k.kernel_stack_id, v,
                                    sym_pid=k.tgid,
                                    fields={"pid": k.tgid, "tid": k.pid})
                      for k, v in tool.maps["counts"].items())
    return printer, stacks


def report(tool, args, picture=None):
    printer, stacks = counted_stacks(tool, args, annotations=bool(picture and picture.annotate_kernel))
    stackfile.report_stacks(picture, printer, stacks, args, "us")
    missing_warning(printer, "lost and could not be displayed", 12)
    negative, full = (sum(v) for v in (tool.maps["problems"][0], tool.maps["problems"][1]))
    if negative:
        print("WARN: Skipped %d events with negative duration" % negative, file=sys.stderr)
    if full:
        print("WARNING: %d off-CPU periods were not counted: the tool's maps are full." % full,
              file=sys.stderr)


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
