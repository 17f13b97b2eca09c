"""syscount: summarize syscall counts and latencies (bcc's columns and flags)."""
import argparse
import errno
import itertools
import os
import sys
from time import strftime

from .lib.runtime import TOOLS_DIR, Tool, sleep_intervals
from .lib.procutil import comm_of
from ..kernel.syscall_names import syscall_name, syscall_number, syscalls


def errno_arg(text):
    try:
        return abs(int(text))
    except ValueError:
        pass
    try:
        return getattr(errno, text)
    except AttributeError:
        raise argparse.ArgumentTypeError("couldn't map %s to an errno" % text)


def parse_args(argv):
    p = argparse.ArgumentParser(description="Summarize syscall counts and latencies.")
    p.add_argument("-p", "--pid", type=int, help="trace only this pid")
    p.add_argument("-t", "--tid", type=int, help="trace only this tid")
    p.add_argument("-c", "--ppid", type=int, help="trace only child of this pid")
    p.add_argument("-i", "--interval", type=int, help="print summary at this interval (seconds)")
    p.add_argument("-d", "--duration", type=int, help="total duration of trace, in seconds")
    p.add_argument("-T", "--top", type=int, default=10,
                   help="print only the top syscalls by count or latency")
    p.add_argument("-x", "--failures", action="store_true",
                   help="trace only failed syscalls (return < 0)")
    p.add_argument("-e", "--errno", type=errno_arg,
                   help="trace only syscalls that return this error (numeric or EPERM, etc.)")
    p.add_argument("-L", "--latency", action="store_true", help="collect syscall latency")
    p.add_argument("-m", "--milliseconds", action="store_true",
                   help="display latency in milliseconds (default: microseconds)")
    p.add_argument("-P", "--process", action="store_true",
                   help="count by process and not by syscall")
    p.add_argument("-l", "--list", action="store_true",
                   help="print list of recognized syscalls and exit")
    p.add_argument("--syscall", type=str,
                   help="trace this syscall only (use option -l to get all recognized syscalls)")
    p.add_argument("--ebpf", action="store_true", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def print_list():
    names = sorted(syscalls().values())
    for group in itertools.zip_longest(*(iter(names),) * 4):
        print("   ".join("%-22s" % s for s in group if s is not None))


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.list:
        print_list()
        return 0
    if args.ebpf:
        with open(os.path.join(TOOLS_DIR, "syscount.bpf.c")) as f:
            print(f.read())
        return 0
    constants = {"failures_only": args.failures, "latency": args.latency,
                 "by_process": args.process}
    if args.syscall is not None:
        nr = syscall_number(args.syscall)
        if nr is None:
            print("Error: syscall '%s' not found. Exiting." % args.syscall)
            return 1
        constants["targ_syscall"] = nr
    # bcc applies one of -p, -t, -c, in that order
    if args.pid:
        constants["targ_pid"] = args.pid
    elif args.tid:
        constants["targ_tid"] = args.tid
    elif args.ppid:
        constants["targ_ppid"] = args.ppid
    if args.errno:
        constants["targ_errno"] = args.errno
    interval = args.interval or args.duration or 99999999

    agg_colname = "PID    COMM" if args.process else "SYSCALL"
    time_colname = "TIME (ms)" if args.milliseconds else "TIME (us)"

    def agg_colval(key, value):
        if args.process:
            comm = comm_of(key) or value.comm or "[unknown]"
            return "%-6d %-15s" % (key, comm)
        return syscall_name(key)

    with Tool("syscount", constants) as tool:
        if args.latency:
            tool.attach("sys_enter")
        tool.attach("sys_exit")
        data = tool.maps["data"]

        def print_stats():
            items = [(k, v) for k, v in data.pop_all() if k != 0xFFFFFFFF]
            print("[%s]" % strftime("%H:%M:%S"))
            if args.latency:
                print("%-22s %8s %16s" % (agg_colname, "COUNT", time_colname))
                items.sort(key=lambda kv: -kv[1].total_ns)
                fmt = "%-22s %8d " + ("%16.6f" if args.milliseconds else "%16.3f")
                for k, v in items[:args.top]:
                    print(fmt % (agg_colval(k, v), v.count,
                                 v.total_ns / (1e6 if args.milliseconds else 1e3)))
            else:
                print("%-22s %8s" % (agg_colname, "COUNT"))
                items.sort(key=lambda kv: -kv[1].count)
                for k, v in items[:args.top]:
                    print("%-22s %8d" % (agg_colval(k, v), v.count))
            print("", flush=True)

        if args.syscall is not None:
            print("Tracing %ssyscall '%s'... Ctrl+C to quit." %
                  ("failed " if args.failures else "", args.syscall), flush=True)
        else:
            print("Tracing %ssyscalls, printing top %d... Ctrl+C to quit." %
                  ("failed " if args.failures else "", args.top), flush=True)
        for _ in sleep_intervals(interval, duration=args.duration):
            print_stats()
        print("Detaching...", flush=True)
    return 0


if __name__ == "__main__":
    from .lib.runtime import run_tool
    sys.exit(run_tool(main, sys.argv[1:]))
