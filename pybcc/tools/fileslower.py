"""fileslower: trace slow synchronous file reads and writes (bcc's columns)."""
import sys
import time

from ..output.table import Column, Table
from .lib.args import add_duration_and_json, non_negative_int, pid, tool_parser
from .lib.runtime import Tool, status
from .lib.rwcalls import attach_rw, dentry_name
from .lib.snoop import print_events

EXAMPLES = """examples:
    ./fileslower             # trace sync file I/O slower than 10 ms (default)
    ./fileslower 1           # trace sync file I/O slower than 1 ms
    ./fileslower -p 185      # trace PID 185 only
    ./fileslower --json 0    # NDJSON, one object per read or write (pybcc)

Source: kprobes/kretprobes on vfs_read/vfs_write, as bcc, where the kernel
has kprobes; else the read/write syscall tracepoints (read, pread64, readv,
preadv, preadv2 and their write twins, entry to exit), with the file found
from the fd through the task's file table. With the tracepoints
(PYBCC_DEBUG=1 says which): LAT(ms) is the whole syscall's time, BYTES the
bytes transferred (bcc: requested), readv/writev are included, and I/O that
does not pass through these syscalls (sendfile, splice, io_uring, the
kernel's own reads) is not. As bcc: only files with ->read_iter/->write_iter
(synchronous I/O), regular files unless -a, names cut to 32 bytes ("...").
"""
def columns(start):
    return [
        Column("TIME(s)", "%-8.3f ", lambda e: time.time() - start),
        Column("COMM", "%-14.14s ", "comm"),
        Column("TID", "%-6s ", "pid", key="tid"),
        Column("D", "%1s ", lambda e: "W" if e.mode else "R"),
        Column("BYTES", "%-7s ", "sz", key="bytes"),
        Column("LAT(ms)", "%7.2f ", lambda e: e.delta_us / 1000),
        Column("FILENAME", "%s", lambda e: dentry_name(e.name, e.name_len)),
    ]


def parse_args(argv):
    p = tool_parser("fileslower", "Trace slow synchronous file reads and writes", EXAMPLES)
    p.add_argument("-p", "--pid", type=pid, metavar="PID", help="trace this PID only")
    p.add_argument("-a", "--all-files", action="store_true",
                   help="include non-regular file types (sockets, FIFOs, etc)")
    p.add_argument("min_ms", nargs="?", default=10, type=non_negative_int,
                   help="minimum I/O duration to trace, in ms (default 10)")
    add_duration_and_json(p, "stop after this many seconds (pybcc)")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    constants = {"min_us": args.min_ms * 1000, "all_files": args.all_files}
    if args.pid:
        constants["targ_tgid"] = args.pid
    with Tool("fileslower", constants, events=True) as tool:
        attach_rw(tool, at_return=True)
        status("Tracing sync read/writes slower than %d ms" % args.min_ms, args.json)
        print_events(tool, Table(columns(time.time()), json=args.json), args.duration)
    return 0


if __name__ == "__main__":
    from .lib.runtime import run_tool
    sys.exit(run_tool(main, sys.argv[1:]))
