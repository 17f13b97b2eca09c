"""hardirqs: summarize hard IRQ (interrupt) event time (bcc's flags and output)."""
import argparse
import sys
import time

from ._runtime import Tool, fail, run_tool, sleep_intervals
from ..output.histogram import collect_sections, print_sections

EXAMPLES = """examples:
    ./hardirqs            # sum hard irq event time
    ./hardirqs -d         # show hard irq event time as histograms
    ./hardirqs 1 10       # print 1 second summaries, 10 times
    ./hardirqs -NT 1      # 1s summaries, nanoseconds, and timestamps
    ./hardirqs -c 1       # sum hard irq event time on CPU 1 only
"""

MODE_TIME, MODE_COUNT, MODE_DIST = range(3)


def parse_args(argv):
    p = argparse.ArgumentParser(description="Summarize hard irq event time as histograms",
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=EXAMPLES)
    p.add_argument("-T", "--timestamp", action="store_true", help="include timestamp on output")
    p.add_argument("-N", "--nanoseconds", action="store_true", help="output in nanoseconds")
    p.add_argument("-C", "--count", action="store_true", help="show event counts instead of timing")
    p.add_argument("-d", "--dist", action="store_true", help="show distributions as histograms")
    p.add_argument("-c", "--cpu", type=int, help="trace this CPU only")
    p.add_argument("interval", nargs="?", default=99999999, type=int, help="output interval, in seconds")
    p.add_argument("outputs", nargs="?", default=99999999, type=int, help="number of outputs")
    return p.parse_args(argv)


def units(count, nanoseconds):
    """(factor, label) as bcc's irq tools choose them."""
    if count:
        return 1, "count"
    if nanoseconds:
        return 1, "nsecs"
    return 1000, "usecs"


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.count and (args.dist or args.nanoseconds):
        fail("The --count option can't be used with time-based options")
    factor, label = units(args.count, args.nanoseconds)
    mode = MODE_COUNT if args.count else MODE_DIST if args.dist else MODE_TIME
    constants = {"mode": mode, "factor": factor,
                 "targ_cpu": args.cpu if args.cpu is not None else -1}

    with Tool("hardirqs", constants) as tool:
        tool.attach("handler_entry")
        tool.attach("handler_exit")
        if args.count:
            print("Tracing hard irq events... Hit Ctrl-C to end.", flush=True)
        else:
            print("Tracing hard irq event time... Hit Ctrl-C to end.", flush=True)
        for last in sleep_intervals(args.interval, args.outputs):
            print()
            if args.timestamp:
                print("%-8s" % time.strftime("%H:%M:%S"))
            if args.dist:
                print_sections(collect_sections(tool.maps["dist"], lambda k: k.name), label, "hardirq")
            else:
                print("%-26s %11s" % ("HARDIRQ", "TOTAL_" + label))
                for k, v in sorted(tool.maps["dist"].pop_all(), key=lambda kv: kv[1]):
                    print("%-26s %11d" % (k.name, v / factor))
            sys.stdout.flush()
            if last:
                break
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
