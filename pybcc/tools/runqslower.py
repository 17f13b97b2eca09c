"""runqslower: trace run queue waits longer than a threshold (bcc's columns and flags)."""
import sys

from ..output.table import Column, Table
from .lib.args import add_duration_and_json, pid, positive_int, tool_parser
from .lib.runtime import Tool, run_tool, status, stream_events
from .lib.snoop import set_constants
from .lib.timestamps import wall_clock

EXAMPLES = """examples:
    ./runqslower         # trace run queue latency higher than 10000 us (default)
    ./runqslower 1000    # trace run queue latency higher than 1000 us
    ./runqslower -p 123  # trace pid 123
    ./runqslower -t 123  # trace tid 123 (use for threads only)
    ./runqslower -P      # also show previous task comm and TID
"""


def min_us_value(text):
    return 0 if text == "0" else positive_int(text)


def parse_args(argv):
    p = tool_parser("runqslower", "Trace high run queue latency", EXAMPLES)
    p.add_argument("min_us", nargs="?", default=10000, type=min_us_value,
                   help="minimum run queue latency to trace, in us (default 10000)")
    p.add_argument("-P", "--previous", action="store_true",
                   help="also show previous task name and TID")
    group = p.add_mutually_exclusive_group()
    group.add_argument("-p", "--pid", type=pid, help="trace this PID only")
    group.add_argument("-t", "--tid", type=pid, help="trace this TID only")
    add_duration_and_json(p, "stop after this many seconds (pybcc extension)")
    return p.parse_args(argv)


def columns(args):
    cols = [
        Column("TIME", "%-8s ", wall_clock),
        Column("COMM", "%-16s ", "task", key="comm"),
        Column("TID", "%-6s ", "pid", key="tid"),
        Column("LAT(us)", "%14s", "delta_us", key="lat_us"),
    ]
    if args.previous:
        cols[-1] = Column("LAT(us)", "%14s ", "delta_us", key="lat_us")
        cols += [Column("PREV COMM", "%-16s ", "prev_task", key="prev_comm"),
                 Column("PREV TID", "%-6s", "prev_pid", key="prev_tid")]
    return cols


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    constants = {"min_us": args.min_us,     # 0 too: every wait
                 **set_constants(targ_tgid=args.pid, targ_pid=args.tid)}
    table = Table(columns(args), json=args.json)

    with Tool("runqslower", constants, events=True) as tool:
        tool.attach_first("wakeup_btf", "wakeup_raw")
        tool.attach_first("wakeup_new_btf", "wakeup_new_raw")
        tool.attach_first("switch_btf", "switch_raw")
        decode = tool.record("event").decode
        tool.open_events(lambda data: table.write(decode(data)))
        status("Tracing run queue latency higher than %d us" % args.min_us, args.json)
        table.print_header()
        stream_events(tool, args.duration)
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
