"""biosnoop: trace block device I/O with PID and latency (bcc's flags and columns)."""
import sys
import time

from ..output.heatmap import HeatMap
from ..output.table import Column, Table
from .lib.args import add_duration_and_json, number, tool_parser
from .lib.cgroupfilter import cgroup_arg, cgroup_constants
from .lib.disks import disk_arg
from .lib.heatmaps import add_heatmap_arg, command_line, write_heatmap
from .lib.outfile import check_writable
from .lib.runtime import Tool, run_tool, stream_events
from .lib.timestamps import SinceFirst

EXAMPLES = """examples:
    ./biosnoop           # trace all block I/O
    ./biosnoop -Q        # include OS queued time
    ./biosnoop -d sdc    # trace sdc only
    ./biosnoop -P        # display block I/O pattern
    ./biosnoop -m 10     # only requests of 10 ms or more (libbpf-tools')
    ./biosnoop -c /sys/fs/cgroup/unified/CG   # only I/O created in that cgroup (libbpf-tools')
    ./biosnoop --heatmap io.svg --duration 60   # and a latency heat map of the minute
"""


milliseconds = number(float, "number", lambda v: v >= 0, "must not be negative, not {text}")


def parse_args(argv):
    p = tool_parser("biosnoop", "Trace block I/O", EXAMPLES)
    p.add_argument("-Q", "--queue", action="store_true", help="include OS queued time")
    p.add_argument("-d", "--disk", type=disk_arg, help="trace this disk only")
    p.add_argument("-P", "--pattern", action="store_true",
                   help="display block I/O pattern (sequential or random)")
    p.add_argument("-m", "--min", type=milliseconds, metavar="MIN",
                   help="Min latency to trace, in ms (libbpf-tools')")
    p.add_argument("-c", "--cgroup", type=cgroup_arg, metavar="CG",
                   help="Trace process in cgroup path (cgroup v2; libbpf-tools')")
    add_duration_and_json(p, "stop after this many seconds (pybcc extension)")
    add_heatmap_arg(p)
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
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    heat = None
    if args.heatmap:
        check_writable(args.heatmap, "biosnoop")
        heat = HeatMap(unit="usecs", what="I/Os")      # LAT(ms), in 1 s columns
    constants = cgroup_constants(args.cgroup)
    if args.min:
        constants["min_ns"] = int(args.min * 1000000)
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

        def on_event(data):
            event = decode(data)
            table.write(event)
            if heat:
                heat.add(event.ts / 1e6, event.delta / 1000)
        tool.open_events(on_event)
        table.print_header()
        started = time.monotonic()
        stream_events(tool, args.duration)
    if heat:
        write_heatmap(heat, args.heatmap, "Block I/O Latency Heat Map", command_line("biosnoop", argv),
                      started)
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
