"""statsnoop: trace stat() syscalls (bcc's columns and flags).

bcc's statsnoop probes stat, statx, statfs, newstat and newlstat; glibc's
stat() has called newfstatat since 2.33, so newfstatat is traced too.
"""
import argparse
import os
import sys

from ..errors import BPFError
from ..output.table import Column, Table
from .lib.args import add_duration, add_json, pid, tool_parser
from .lib.runtime import TOOLS_DIR, Tool, stream_events
from .lib.timestamps import SinceFirst

EXAMPLES = """examples:
    ./statsnoop           # trace all stat() syscalls
    ./statsnoop -t        # include timestamps
    ./statsnoop -x        # only show failed stats
    ./statsnoop -p 181    # only trace PID 181
"""

# syscall → enter program (by where its path argument is)
SYSCALLS = (("statfs", "enter_path_arg0"), ("newstat", "enter_path_arg0"),
            ("newlstat", "enter_path_arg0"), ("stat", "enter_path_arg0"),
            ("newfstatat", "enter_path_arg1"), ("statx", "enter_path_arg1"))


def parse_args(argv):
    p = tool_parser("statsnoop", "Trace stat() syscalls", EXAMPLES)
    p.add_argument("-t", "--timestamp", action="store_true", help="include timestamp on output")
    p.add_argument("-x", "--failed", action="store_true", help="only show failed stats")
    p.add_argument("-p", "--pid", type=pid, help="trace this PID only")
    p.add_argument("--ebpf", action="store_true", help=argparse.SUPPRESS)
    add_duration(p, "stop after this many seconds (pybcc extension)")
    add_json(p)
    return p.parse_args(argv)


def columns(args):
    return [
        Column("TIME(s)", "%-14.9f", SinceFirst("ts_ns", 1e9)) if args.timestamp else None,
        Column("PID", "%-7d ", "pid"),
        Column("COMM", "%-16s ", "comm"),
        Column("FD", "%4d ", "fd"),
        Column("ERR", "%3d ", "err"),
        Column("PATH", "%s", "fname"),
    ]


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.ebpf:
        with open(os.path.join(TOOLS_DIR, "statsnoop.bpf.c")) as f:
            print(f.read())
        return 0
    constants = {"failed_only": args.failed}
    if args.pid:
        constants["targ_pid"] = args.pid
    table = Table(columns(args), json=args.json)

    with Tool("statsnoop", constants, events=True) as tool:
        for sc, enter in SYSCALLS:
            # One program serves several tracepoints; a syscall this
            # architecture lacks (stat on x86_64) is skipped.
            try:
                tool.attach(enter, f"syscalls/sys_enter_{sc}")
                tool.attach("stat_exit", f"syscalls/sys_exit_{sc}")
            except BPFError:
                if sc in ("newfstatat", "statx"):
                    raise
        decode = tool.record("event").decode
        tool.open_events(lambda data: table.write(decode(data)))
        table.print_header()
        stream_events(tool, args.duration)
    return 0


if __name__ == "__main__":
    from .lib.runtime import run_tool
    sys.exit(run_tool(main, sys.argv[1:]))
