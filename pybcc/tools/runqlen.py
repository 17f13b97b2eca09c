"""runqlen: summarize scheduler run queue length as a histogram (bcc's flags and output)."""
import argparse
import sys
import time

from ..kernel.uapi import PERF_COUNT_SW_CPU_CLOCK, PERF_TYPE_SOFTWARE
from ..output.histogram import print_linear_hist
from .lib.runtime import Tool, run_tool, sleep_intervals

EXAMPLES = """examples:
    ./runqlen            # summarize run queue length as a histogram
    ./runqlen 1 10       # print 1 second summaries, 10 times
    ./runqlen -T 1       # 1s summaries and timestamps
    ./runqlen -O         # report run queue occupancy
    ./runqlen -C         # show each CPU separately
"""

FREQUENCY = 99


def parse_args(argv):
    p = argparse.ArgumentParser(description="Summarize scheduler run queue length as a histogram",
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=EXAMPLES)
    p.add_argument("-T", "--timestamp", action="store_true", help="include timestamp on output")
    p.add_argument("-O", "--runqocc", action="store_true", help="report run queue occupancy")
    p.add_argument("-C", "--cpus", action="store_true", help="print output for each CPU separately")
    p.add_argument("interval", nargs="?", default=99999999, type=int, help="output interval, in seconds")
    p.add_argument("count", nargs="?", default=99999999, type=int, help="number of outputs")
    return p.parse_args(argv)


def occupancy(vals):
    """Share of samples with tasks waiting (slot > 0)."""
    samples = sum(vals)
    return (samples - vals[0]) / samples if samples else 0.0


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    with Tool("runqlen") as tool:
        tool.attach("do_sample", ev_type=PERF_TYPE_SOFTWARE, ev_config=PERF_COUNT_SW_CPU_CLOCK,
                    sample_freq=FREQUENCY)
        print("Sampling run queue length... Hit Ctrl-C to end.", flush=True)
        for last in sleep_intervals(args.interval, args.count):
            print()
            if args.timestamp:
                print("%-8s" % time.strftime("%H:%M:%S"))
            per_cpu = {}
            for k, v in tool.maps["dist"].pop_all():
                cpu = k.cpu if args.cpus else None
                vals = per_cpu.setdefault(cpu, [0] * 1025)
                vals[k.slot] += v
            if args.runqocc and args.cpus:
                for c in range(max(per_cpu, default=-1) + 1):
                    print("runqocc, CPU %-3d %6.2f%%" % (c, 100 * occupancy(per_cpu.get(c, [0]))))
            elif args.runqocc:
                print("runqocc: %0.2f%%" % (100 * occupancy(per_cpu.get(None, [0]))))
            else:
                for cpu in sorted(per_cpu):
                    if cpu is not None:
                        print("\ncpu = %d" % cpu)
                    print_linear_hist(per_cpu[cpu], "runqlen")
            sys.stdout.flush()
            if last:
                break
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
