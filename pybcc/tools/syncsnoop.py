"""syncsnoop: trace the sync family of syscalls (bcc's columns)."""
import sys

from ..output.table import Column, Table
from .lib.args import add_duration, add_json, pid, tool_parser
from .lib.runtime import Tool, run_tool
from .lib.snoop import attach_all, print_events

EXAMPLES = """examples:
    ./syncsnoop              # trace sync, fsync, fdatasync, msync, sync_file_range, syncfs
    ./syncsnoop -p 181       # only PID 181 (pybcc)
    ./syncsnoop --json       # NDJSON, one object per call (pybcc)

TIME(s) is the kernel's monotonic clock, as bcc prints it. The calls come from
the syscalls:sys_enter_* tracepoints (bcc: kprobes on the syscall functions);
the same calls are seen.
"""

CALLS = ("N/A", "sync", "fsync", "fdatasync", "msync", "sync_file_range", "syncfs")
PROGRAMS = ("enter_sync", "enter_fsync", "enter_fdatasync", "enter_msync",
            "enter_sync_file_range", "enter_syncfs")


def parse_args(argv):
    p = tool_parser("syncsnoop", "Trace sync() family syscalls.", EXAMPLES)
    p.add_argument("-p", "--pid", type=pid, help="trace this PID only (pybcc)")
    add_duration(p, "stop after this many seconds (pybcc)")
    add_json(p)
    return p.parse_args(argv)


def call_name(e):
    return CALLS[e.call] if e.call < len(CALLS) else "N/A"


COLUMNS = [
    Column("TIME(s)", "%-18.9f ", lambda e: e.ts_ns / 1e9),
    Column("COMM", "%-16s ", lambda e: e.comm),
    Column("CALL", "%-16s", call_name),
]


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    constants = {"targ_pid": args.pid} if args.pid else {}
    table = Table(COLUMNS, json=args.json)
    with Tool("syncsnoop", constants, events=True) as tool:
        attach_all(tool, PROGRAMS)
        print_events(tool, table, args.duration)
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
