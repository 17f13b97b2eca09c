"""syncsnoop: trace the sync family of syscalls (bcc's columns)."""
import sys

from ..output.table import Column, Table
from .lib.runtime import Tool, run_tool
from .lib.snoop import attach_all, print_events, parse_pid_snoop_args

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
    return parse_pid_snoop_args("syncsnoop", "Trace sync() family syscalls.", EXAMPLES, argv, pid_help="trace this PID only (pybcc)")


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
