"""syncsnoop: trace the sync family of syscalls (bcc's columns)."""
import sys

from ..output.table import Column
from .lib.runtime import run_tool
from .lib.snoop import parse_pid_snoop_args, set_constants, snoop

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
    return parse_pid_snoop_args("syncsnoop", "Trace sync() family syscalls.", EXAMPLES, argv,
                                pid_help="trace this PID only (pybcc)")


def call_name(e):
    return CALLS[e.call] if e.call < len(CALLS) else "N/A"


COLUMNS = [
    Column("TIME(s)", "%-18.9f ", lambda e: e.ts_ns / 1e9),
    Column("COMM", "%-16s ", lambda e: e.comm),
    Column("CALL", "%-16s", call_name),
]


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    return snoop("syncsnoop", args, COLUMNS, set_constants(targ_pid=args.pid), PROGRAMS)


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
