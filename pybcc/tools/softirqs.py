"""softirqs: summarize soft IRQ event time (bcc's flags and output)."""
import argparse
import sys
import time

from ._runtime import Tool, fail, run_tool, sleep_intervals
from ..output.histogram import collect_sections, print_sections
from .hardirqs import MODE_COUNT, MODE_DIST, MODE_TIME, units

EXAMPLES = """examples:
    ./softirqs            # sum soft irq event time
    ./softirqs -C         # show the number of soft irq events
    ./softirqs -d         # show soft irq event time as histograms
    ./softirqs 1 10       # print 1 second summaries, 10 times
    ./softirqs -NT 1      # 1s summaries, nanoseconds, and timestamps
    ./softirqs -c 1       # sum soft irq event time on CPU 1 only
"""

# softirq_to_name[] of kernel/softirq.c
VEC_NAMES = ["hi", "timer", "net_tx", "net_rx", "block", "irq_poll", "tasklet", "sched",
             "hrtimer", "rcu"]


def vec_to_name(vec):
    return VEC_NAMES[vec] if vec < len(VEC_NAMES) else str(vec)


def parse_args(argv):
    p = argparse.ArgumentParser(description="Summarize soft irq event time as histograms.",
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=EXAMPLES)
    p.add_argument("-T", "--timestamp", action="store_true", help="include timestamp on output")
    p.add_argument("-N", "--nanoseconds", action="store_true", help="output in nanoseconds")
    p.add_argument("-C", "--events", action="store_true", help="show the number of soft irq events")
    p.add_argument("-d", "--dist", action="store_true", help="show distributions as histograms")
    p.add_argument("-c", "--cpu", type=int, help="trace this CPU only")
    p.add_argument("interval", nargs="?", default=99999999, type=int, help="output interval, in seconds")
    p.add_argument("count", nargs="?", default=99999999, type=int, help="number of outputs")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.events and (args.dist or args.nanoseconds):
        fail("The --events option can't be used with time-based options")
    factor, label = units(args.events, args.nanoseconds)
    mode = MODE_COUNT if args.events else MODE_DIST if args.dist else MODE_TIME
    constants = {"mode": mode, "factor": factor,
                 "targ_cpu": args.cpu if args.cpu is not None else -1}

    with Tool("softirqs", constants) as tool:
        tool.attach("softirq_entry")
        if not args.events:
            tool.attach("softirq_exit")
        if args.events:
            print("Tracing soft irq events... Hit Ctrl-C to end.", flush=True)
        else:
            print("Tracing soft irq event time... Hit Ctrl-C to end.", flush=True)
        for last in sleep_intervals(args.interval, args.count):
            print()
            if args.timestamp:
                print("%-8s" % time.strftime("%H:%M:%S"))
            if args.dist:
                hists = collect_sections(tool.maps["dist"], lambda k: k.vec)
                print_sections(hists, label, "softirq", vec_to_name)
            else:
                print("%-16s %11s" % ("SOFTIRQ", "TOTAL_" + label))
                for k, v in sorted(tool.maps["dist"].pop_all(), key=lambda kv: kv[1]):
                    print("%-16s %11d" % (vec_to_name(k.vec), v / factor))
            sys.stdout.flush()
            if last:
                break
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
