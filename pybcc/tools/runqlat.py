"""runqlat: summarize run queue (scheduler) latency as a histogram (bcc's flags and output)."""
import argparse
import sys
import time

from .lib.runtime import Tool, run_tool, sleep_intervals
from ..output.histogram import collect_sections, print_sections

EXAMPLES = """examples:
    ./runqlat            # summarize run queue latency as a histogram
    ./runqlat 1 10       # print 1 second summaries, 10 times
    ./runqlat -mT 1      # 1s summaries, milliseconds, and timestamps
    ./runqlat -P         # show each PID separately
    ./runqlat -p 185     # trace PID 185 only
"""

KEY_NONE, KEY_PID, KEY_TID, KEY_PIDNS = range(4)


def parse_args(argv):
    p = argparse.ArgumentParser(description="Summarize run queue (scheduler) latency as a histogram",
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=EXAMPLES)
    p.add_argument("-T", "--timestamp", action="store_true", help="include timestamp on output")
    p.add_argument("-m", "--milliseconds", action="store_true", help="millisecond histogram")
    p.add_argument("-P", "--pids", action="store_true", help="print a histogram per process ID")
    p.add_argument("--pidnss", action="store_true", help="print a histogram per PID namespace")
    p.add_argument("-L", "--tids", action="store_true", help="print a histogram per thread ID")
    p.add_argument("-p", "--pid", type=int, help="trace this PID only")
    p.add_argument("interval", nargs="?", default=99999999, type=int, help="output interval, in seconds")
    p.add_argument("count", nargs="?", default=99999999, type=int, help="number of outputs")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    # bcc's precedence: -L over -P, either over --pidnss
    if args.tids:
        mode, header = KEY_TID, "tid"
    elif args.pids:
        mode, header = KEY_PID, "pid"
    elif args.pidnss:
        mode, header = KEY_PIDNS, "pidns"
    else:
        mode, header = KEY_NONE, None
    constants = {"targ_ms": args.milliseconds, "key_mode": mode}
    if args.pid:
        constants["targ_tgid"] = args.pid
    label = "msecs" if args.milliseconds else "usecs"

    with Tool("runqlat", constants) as tool:
        tool.attach_first("wakeup_btf", "wakeup_raw")
        tool.attach_first("wakeup_new_btf", "wakeup_new_raw")
        tool.attach_first("switch_btf", "switch_raw")
        print("Tracing run queue latency... Hit Ctrl-C to end.", flush=True)

        for last in sleep_intervals(args.interval, args.count):
            print()
            if args.timestamp:
                print("%-8s" % time.strftime("%H:%M:%S"))
            section = (lambda k: k.id) if header else None
            print_sections(collect_sections(tool.maps["hists"], section), label, header)
            sys.stdout.flush()
            if last:
                break
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
