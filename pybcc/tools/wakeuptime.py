"""wakeuptime: summarize sleep to wakeup time by waker kernel stack (bcc's
flags and output)."""
import sys

from .lib.args import add_ebpf, pid, tool_parser
from .lib import offcpu, stackfile
from .lib.runtime import run_tool
from .lib.stacks import Stack, by_value
from .lib.wakestacks import WakeStack, WakeupPrinter

EXAMPLES = """examples:
    ./wakeuptime             # trace blocked time with waker stacks
    ./wakeuptime 5           # trace for 5 seconds only
    ./wakeuptime -f 5        # 5 seconds, and output in folded format
    ./wakeuptime -u          # don't include kernel threads (user only)
    ./wakeuptime -p 185      # trace for PID 185 only
    ./wakeuptime -o wakeup.svg 5   # 5 seconds, as a flame graph of blocked time (µs)
"""

JSON_HELP = ("print one JSON object per waker stack: target and waker comms, the waker's "
             "kernel frames (innermost first, each {function, kernel, address}), value and "
             "unit (us) (pybcc extension)")


def parse_args(argv):
    p = tool_parser("wakeuptime", "Summarize sleep to wakeup time by waker kernel stack", EXAMPLES)
    p.add_argument("-u", "--useronly", dest="user_threads_only", action="store_true",
                   help="user threads only (no kernel threads)")
    p.add_argument("-p", "--pid", dest="tgid", type=pid, help="trace this PID only")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="show raw addresses (the multi-line output always shows them, as "
                        "bcc's; -v adds them to folded lines)")
    offcpu.add_output_arguments(p, JSON_HELP, 16384)
    offcpu.add_block_time_arguments(p, state=False)
    add_ebpf(p, "wakeuptime")
    args = p.parse_args(argv)
    if args.tgid is not None and args.user_threads_only:
        p.error("use either -p or -u.")
    # the waker's kernel stack only
    args.user_stacks_only, args.kernel_stacks_only = False, True
    return args


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    return offcpu.run(args, argv, "wakeuptime", "Tracing blocked time (us) by kernel stack",
                      report, "Wakeup Time Flame Graph", "%s blocked", {}, ("waking", "switch"))


# struct key_t of wakeuptime.bpf.c: waker_stack_id, waker and target names
COUNTS_KEY = "<i16s16s"


def wakeup_stacks(tool, args, annotations=False):
    """The printer and the waker stacks, least time first."""
    text = not (args.json or stackfile.chosen_format(args))
    printer = WakeupPrinter(tool.maps["stack_traces"], addresses=args.verbose, offsets=text,
                            skip_tracing=True, annotations=annotations)
    stacks = by_value(WakeStack(Stack(offcpu.comm(target), 0, None, None, [], 0),
                                printer.stack(offcpu.comm(waker), 0, -1, waker_stack_id, 0), v)
                      for (waker_stack_id, waker, target), v in offcpu.counted(tool, COUNTS_KEY))
    return printer, stacks


def report(tool, args, picture=None):
    offcpu.report(tool, args, picture, wakeup_stacks, "could not be displayed")


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
