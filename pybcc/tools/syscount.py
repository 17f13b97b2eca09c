"""syscount: summarize syscall counts and latencies (bcc's columns and flags)."""
import argparse
import itertools
import os
import sys
from time import strftime

from ..kernel.syscall_names import syscall_name, syscall_number, syscalls
from ..output.table import Column, Table
from .lib.args import add_call_summary_args, add_json, pid, tool_parser
from .lib.procutil import comm_of
from .lib.report import FOREVER, report_loop
from .lib.runtime import TOOLS_DIR, Tool, fail, status

EXAMPLES = """examples:
    ./syscount                 # count syscalls, print the top 10 at Ctrl-C
    ./syscount -P              # count by process instead of by syscall
    ./syscount -L -i 1         # with their latency, every second
    ./syscount -x -p 185       # failed syscalls of PID 185 only
    ./syscount -e ENOENT       # syscalls that returned ENOENT
    ./syscount --syscall read  # the read syscall only
    ./syscount --json -i 1     # NDJSON, one object per 1s interval (pybcc)
"""

NO_SYSCALL = 0xFFFFFFFF   # the id of a syscall exit without a syscall (-1)


def parse_args(argv):
    p = tool_parser("syscount", "Summarize syscall counts and latencies.", EXAMPLES)
    p.add_argument("-p", "--pid", type=pid, help="trace only this pid")
    p.add_argument("-t", "--tid", type=pid, help="trace only this tid")
    p.add_argument("-c", "--ppid", type=pid, help="trace only child of this pid")
    add_call_summary_args(p, "syscall")
    p.add_argument("--ebpf", action="store_true", help=argparse.SUPPRESS)
    add_json(p)
    return p.parse_args(argv)


def columns(args):
    """bcc's columns; a row is (syscall number or pid, {count, total_ns, comm})."""
    if args.process:
        what = [Column("PID", "%-6d ", lambda r: r[0]),
                Column("COMM", "%-15s ", lambda r: comm_of(r[0]) or r[1].comm or "[unknown]")]
    else:
        what = [Column("SYSCALL", "%-22s ", lambda r: syscall_name(r[0]))]
    if not args.latency:
        return what + [Column("COUNT", "%8d", lambda r: r[1].count)]
    if args.milliseconds:
        time = Column("TIME (ms)", "%16.6f", lambda r: r[1].total_ns / 1e6)
    else:
        time = Column("TIME (us)", "%16.3f", lambda r: r[1].total_ns / 1e3)
    return what + [Column("COUNT", "%8d ", lambda r: r[1].count), time]


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
        if nr is None:   # bcc's words, as a one-line usage error
            fail("Error: syscall '%s' not found. Exiting." % args.syscall, code=2)
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
    table = Table(columns(args), json=args.json)
    unit = ("msecs" if args.milliseconds else "usecs") if args.latency else "count"

    def report(json):
        rows = [(k, v) for k, v in tool.maps["data"].pop_all() if k != NO_SYSCALL]
        if args.latency:
            rows.sort(key=lambda r: -r[1].total_ns)
        else:
            rows.sort(key=lambda r: -r[1].count)
        rows = rows[:args.top]
        if json:
            return {"unit": unit, "rows": [table.as_dict(r) for r in rows]}
        return "".join(["[%s]\n" % strftime("%H:%M:%S"), table.header_text(), "\n",
                        *(table.text(r) + "\n" for r in rows), "\n"])

    with Tool("syscount", constants) as tool:
        if args.latency:
            tool.attach("sys_enter")
        tool.attach("sys_exit")
        failed = "failed " if args.failures else ""
        if args.syscall is not None:
            status("Tracing %ssyscall '%s'... Ctrl+C to quit." % (failed, args.syscall), args.json)
        else:
            status("Tracing %ssyscalls, printing top %d... Ctrl+C to quit." % (failed, args.top),
                   args.json)
        report_loop(report, args.interval or FOREVER, None, args.duration, args.json,
                    blank_line=False)
        status("Detaching...", args.json)
    return 0


if __name__ == "__main__":
    from .lib.runtime import run_tool
    sys.exit(run_tool(main, sys.argv[1:]))
