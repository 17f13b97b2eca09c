"""offwaketime: summarize blocked time by the off-CPU stack and the stack of
the waker (bcc's flags and output)."""
import sys

from .lib import offcpu
from .lib.runtime import run_tool, tool_object
from .lib.stacks import by_value, stack_context
from .lib.wakestacks import WakePrinter, WakeStack

EXAMPLES = offcpu.examples("offwaketime", "off-CPU + waker stack", 9000,
                           "wake.svg 5   # 5 seconds, as a flame graph of blocked time (µs)")

JSON_HELP = ("print one JSON object per pair of stacks: target and waker, each with comm, "
             "pid, tid and frames (innermost first, each {function, kernel, address}; "
             "waker null when its wake-up was not seen), value and unit (us) (pybcc extension)")


def parse_args(argv):
    return offcpu.parse_args(
        argv, "offwaketime", "Summarize blocked time by kernel stack trace + waker stack",
        EXAMPLES, JSON_HELP, 16384, id_type=offcpu.pid_list, ids="PIDS", tids="TIDS",
        pid_help="trace these PIDS only. Can be a comma separated list of PIDS.",
        tid_help="trace these TIDS only. Can be a comma separated list of TIDS.")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    header = "Tracing blocked time (us) by %s off-CPU and waker stack" % stack_context(
        args.user_stacks_only, args.kernel_stacks_only)
    # one BPF object with offcputime: the same off-CPU periods, with wakers
    return offcpu.run(args, argv, "offwaketime", header, report, "Off-Wake Time Flame Graph",
                      "%s blocked", {"track_wakers": True}, ("waking", "switch"),
                      obj=tool_object("offcputime"))


def wake_stacks(tool, args, annotations=False):
    """The printer and the (target, waker) stacks, least time first."""
    printer = WakePrinter(tool.maps["stack_traces"], user=not args.kernel_stacks_only,
                          kernel=not args.user_stacks_only, delimited=args.delimited,
                          skip_tracing=True, annotations=annotations)

    def part(tgid, user_id, kernel_id, name):
        # user stacks are symbolized by tgid (one symbol table per process)
        return printer.stack(offcpu.comm(name), tgid, user_id, kernel_id, 0, sym_pid=tgid)

    stacks = []
    for k, v in offcpu.counted(tool, offcpu.TARGET_WAKER_KEY):
        target, waker = k[:5], k[5:]    # each: tid, tgid, user and kernel stack ids, name
        waker_seen = waker[4][:1] != b"\0"      # the waker's name: empty when it was missed
        stacks.append(WakeStack(part(*target[1:]), part(*waker[1:]) if waker_seen else None, v,
                                (target[0], waker[0] if waker_seen else None)))
    return printer, by_value(stacks)


def report(tool, args, picture=None):
    offcpu.report(tool, args, picture, wake_stacks)


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
