"""offcputime: summarize off-CPU time by stack trace (bcc's flags and output)."""
import sys

from .lib import offcpu
from .lib.runtime import run_tool
from .lib.stacks import by_value, flags_printer, stack_context

EXAMPLES = offcpu.examples("offcputime", "off-CPU stack", 10000,
                           "off.svg 5   # 5 seconds, as a flame graph of off-CPU time (µs)")

JSON_HELP = ("print one JSON object per stack: comm, pid, tid, frames (innermost first, "
             "each {function, kernel, address}), value and unit (us) (pybcc extension)")


def parse_args(argv):
    return offcpu.parse_args(argv, "offcputime", "Summarize off-CPU time by stack trace", EXAMPLES,
                             JSON_HELP, 1024)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    if args.kernel_threads_only and args.user_stacks_only:
        print("ERROR: Displaying user stacks for kernel threads doesn't make sense.", file=sys.stderr)
        return 2
    header = "Tracing off-CPU time (us) of %s by %s stack" % (
        offcpu.thread_constants(args)[1],
        stack_context(args.user_stacks_only, args.kernel_stacks_only))
    # wokeby is offwaketime's (the object serves both): made as small as can be
    return offcpu.run(args, argv, "offcputime", header, report, "Off-CPU Time Flame Graph",
                      "%s off-CPU", {}, map_sizes={"wokeby": 1})


def counted_stacks(tool, args, annotations=False):
    """The printer and the off-CPU stacks, least time first."""
    printer = flags_printer(tool, args, skip_tracing=True, annotations=annotations)
    # bcc shows the thread id; user stacks are symbolized by tgid (one
    # symbol table per process)
    stacks = by_value(printer.stack(offcpu.comm(name), tid, user_id, kernel_id, v, sym_pid=tgid,
                                    fields={"pid": tgid, "tid": tid})
                      for (tid, tgid, user_id, kernel_id, name), v
                      in offcpu.counted(tool, offcpu.TARGET_KEY))
    return printer, stacks


def report(tool, args, picture=None):
    offcpu.report(tool, args, picture, counted_stacks)


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
