"""offcputime: summarize off-CPU time by stack trace (bcc's flags and output)."""
import argparse
import sys

from .lib.runtime import Tool, run_tool
from .profile import positive_int, positive_nonzero_int
from .lib.stacks import StackPrinter, stack_context, trace_until_done, write_counts
from .lib import stackfile

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


def parse_args(argv):
    p = argparse.ArgumentParser(description="Summarize off-CPU time by stack trace",
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=EXAMPLES)
    threads = p.add_mutually_exclusive_group()
    threads.add_argument("-p", "--pid", metavar="PID", dest="tgid", type=positive_int,
                         help="trace this PID only")
    threads.add_argument("-t", "--tid", metavar="TID", dest="pid", type=positive_int,
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
    p.add_argument("-f", "--folded", action="store_true", help="output folded format")
    p.add_argument("--stack-storage-size", default=1024, type=positive_nonzero_int,
                   help="the number of unique stack traces that can be stored and "
                        "displayed (default 1024)")
    p.add_argument("duration", nargs="?", default=99999999, type=positive_nonzero_int,
                   help="duration of trace, in seconds")
    p.add_argument("-m", "--min-block-time", default=1, type=positive_nonzero_int,
                   help="the amount of time in microseconds over which we store traces (default 1)")
    p.add_argument("-M", "--max-block-time", default=U64_MAX, type=positive_nonzero_int,
                   help="the amount of time in microseconds under which we store traces "
                        "(default U64_MAX)")
    p.add_argument("--state", type=positive_int,
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
        trace_until_done(tool, header, args.duration, stackfile.quiet(args))
        report(tool, args, picture)
    return 0


def report(tool, args, picture=None):
    printer = StackPrinter(tool.maps["stack_traces"], user=not args.kernel_stacks_only,
                           kernel=not args.user_stacks_only, delimited=args.delimited,
                           skip_tracing=True, annotations=bool(picture and picture.annotate_kernel))
    # user stacks are symbolized by tgid: one symbol table per process
    if picture:
        picture.write(picture.folded_counts(printer, tool.maps["counts"].items(), lambda k: k.tgid))
    else:
        write_counts(printer, tool.maps["counts"].items(), args.folded, sym_pid=lambda k: k.tgid)
    if printer.missing:
        hint = " Consider increasing --stack-storage-size." if 12 in printer.missing_errnos else ""
        print("WARNING: %d stack traces lost and could not be displayed.%s" %
              (printer.missing, hint), file=sys.stderr)
    negative, full = (sum(v) for v in (tool.maps["problems"][0], tool.maps["problems"][1]))
    if negative:
        print("WARN: Skipped %d events with negative duration" % negative, file=sys.stderr)
    if full:
        print("WARNING: %d off-CPU periods were not counted: the tool's maps are full." % full,
              file=sys.stderr)


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
