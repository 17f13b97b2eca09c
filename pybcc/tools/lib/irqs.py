"""What hardirqs and softirqs share: bcc's flags, the constants their BPF
programs take (include/pybcc/irqtime.h), and the interval loop that prints
totals or histograms."""
import argparse
import sys
import time

from .runtime import fail, sleep_intervals
from ...output.histogram import collect_sections, print_sections

MODE_TIME, MODE_COUNT, MODE_DIST = range(3)


def parse_args(argv, description, examples, count_option, count_help, outputs_name):
    """bcc's flags; ``count_option`` (-C) and ``outputs_name`` are spelled
    differently by the two tools, so that usage text stays bcc's."""
    p = argparse.ArgumentParser(description=description,
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=examples)
    p.add_argument("-T", "--timestamp", action="store_true", help="include timestamp on output")
    p.add_argument("-N", "--nanoseconds", action="store_true", help="output in nanoseconds")
    p.add_argument("-C", count_option, action="store_true", help=count_help)
    p.add_argument("-d", "--dist", action="store_true", help="show distributions as histograms")
    p.add_argument("-c", "--cpu", type=int, help="trace this CPU only")
    p.add_argument("interval", nargs="?", default=99999999, type=int, help="output interval, in seconds")
    p.add_argument(outputs_name, nargs="?", default=99999999, type=int, help="number of outputs")
    args = p.parse_args(argv)
    args.counting = getattr(args, count_option[2:])
    args.outputs = getattr(args, outputs_name)
    if args.counting and (args.dist or args.nanoseconds):
        fail("The %s option can't be used with time-based options" % count_option)
    return args


def units(count, nanoseconds):
    """(factor, label) as bcc's irq tools choose them."""
    if count:
        return 1, "count"
    if nanoseconds:
        return 1, "nsecs"
    return 1000, "usecs"


def constants(args):
    """The BPF program's constants, for parse_args' result."""
    mode = MODE_COUNT if args.counting else MODE_DIST if args.dist else MODE_TIME
    return {"mode": mode, "factor": units(args.counting, args.nanoseconds)[0],
            "targ_cpu": args.cpu if args.cpu is not None else -1}


def report(tool, args, kind, width, section, shown=str):
    """Each interval: histograms by ``section(key)`` with -d, else totals
    (column ``width`` wide) named ``shown(section(key))``; ``kind`` is
    "hardirq" or "softirq"."""
    factor, label = units(args.counting, args.nanoseconds)
    for last in sleep_intervals(args.interval, args.outputs):
        print()
        if args.timestamp:
            print("%-8s" % time.strftime("%H:%M:%S"))
        if args.dist:
            print_sections(collect_sections(tool.maps["dist"], section), label, kind, shown)
        else:
            print("%-*s %11s" % (width, kind.upper(), "TOTAL_" + label))
            for k, v in sorted(tool.maps["dist"].pop_all(), key=lambda kv: kv[1]):
                print("%-*s %11d" % (width, shown(section(k)), v / factor))
        sys.stdout.flush()
        if last:
            break
