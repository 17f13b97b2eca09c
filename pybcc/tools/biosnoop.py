"""biosnoop: trace block device I/O with PID and latency (bcc's flags and columns)."""
import sys

from ..output.table import Column, Table
from .lib.args import add_duration, add_json, tool_parser
from .lib.disks import disk_arg
from .lib.runtime import Tool, run_tool, stream_events
from .lib.timestamps import SinceFirst

EXAMPLES = """examples:
    ./biosnoop           # trace all block I/O
    ./biosnoop -Q        # include OS queued time
    ./biosnoop -d sdc    # trace sdc only
    ./biosnoop -P        # display block I/O pattern
"""


def parse_args(argv):
    p = tool_parser("biosnoop", "Trace block I/O", EXAMPLES)
    p.add_argument("-Q", "--queue", action="store_true", help="include OS queued time")
    p.add_argument("-d", "--disk", type=disk_arg, help="trace this disk only")
    p.add_argument("-P", "--pattern", action="store_true",
                   help="display block I/O pattern (sequential or random)")
    add_duration(p, "stop after this many seconds (pybcc extension)")
    add_json(p)
    return p.parse_args(argv)


PATTERNS = {1: "S", 2: "R"}


def columns(args):
    return [
        Column("TIME(s)", "%-11.6f ", SinceFirst("ts", 1e6)),
        Column("COMM", "%-14.14s ", "comm"),
        Column("PID", "%-7s ", "pid"),
        Column("DISK", "%-9s ", lambda e: e.disk or b"<unknown>"),
        Column("T", "%-1s ", lambda e: "W" if e.rwflag else "R", key="rw"),
        Column("SECTOR", "%-10s ", "sector"),
        Column("BYTES", "%-7s", "len", key="bytes"),
        Column("P", "%-1s ", lambda e: PATTERNS.get(e.pattern, "?"), key="pattern")
        if args.pattern else None,
        Column("QUE(ms)", "%7.2f ", lambda e: e.qdelta / 1000000, head="%7s ")
        if args.queue else None,
        Column("LAT(ms)", "%7.2f", lambda e: e.delta / 1000000, head="%7s"),
    ]


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    constants = {}
    if args.disk is not None:
        constants.update(filter_dev=True, targ_major=args.disk[0], targ_minor=args.disk[1])
    table = Table(columns(args), json=args.json)

    with Tool("biosnoop", constants, events=True) as tool:
        # who created the request: where it is accounted (block_io_start,
        # Linux 6.5+), else where it is inserted into the queue
        tool.attach_first("io_start_btf", "io_start_raw", "rq_insert_btf", "rq_insert_raw")
        tool.attach_first("rq_issue_btf", "rq_issue_raw")
        tool.attach_first("rq_complete_btf", "rq_complete_raw")
        decode = tool.record("event").decode
        tool.open_events(lambda data: table.write(decode(data)))
        table.print_header()
        stream_events(tool, args.duration)
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
