"""biotop: block device (disk) I/O by process, top-like (bcc's columns)."""
import sys

from ..output.table import Column, Table
from .lib.args import add_interval_count, add_json, pid, positive_int, tool_parser
from .lib.disks import disk_name
from .lib.runtime import Tool
from .lib.top import run_top, top_report

EXAMPLES = """examples:
    ./biotop            # block device I/O top, 1 second refresh
    ./biotop -C         # don't clear the screen
    ./biotop -p 181     # only trace PID 181
    ./biotop 5          # 5 second summaries
    ./biotop 5 10       # 5 second summaries, 10 times only
    ./biotop --json 1 5 # NDJSON, one object per interval (pybcc)

Source: block tracepoints (block_io_start or block_rq_insert, block_rq_issue,
block_rq_complete) as tp_btf, else raw tracepoints; bcc uses the same
tracepoints where the kernel has block_io_start. Requests created before the
tool started are counted under COMM "?" and PID 0.
"""
def parse_args(argv):
    p = tool_parser("biotop", "Block device (disk) I/O by process", EXAMPLES)
    p.add_argument("-C", "--noclear", action="store_true", help="don't clear the screen")
    p.add_argument("-r", "--maxrows", default=20, type=positive_int,
                   help="maximum rows to print, default 20")
    p.add_argument("-p", "--pid", type=pid, metavar="PID", help="trace this PID only")
    add_interval_count(p, interval=1)
    add_json(p)
    return p.parse_args(argv)


# a row is (key, value) of the counts map
COLUMNS = [
    Column("PID", "%-7d ", lambda r: r[0].pid),
    Column("COMM", "%-16s ", lambda r: r[0].name),
    Column("D", "%1s ", lambda r: "W" if r[0].rwflag else "R"),
    Column("MAJ", "%-3d ", lambda r: r[0].major),
    Column("MIN", "%-3d ", lambda r: r[0].minor),
    Column("DISK", "%-8s ", lambda r: disk_name(r[0].major, r[0].minor) or "?"),
    Column("I/O", "%5s ", lambda r: r[1].io, key="io"),
    # bcc prints bytes / 1024 with %s (Python 3: a float, e.g. "64.0")
    Column("Kbytes", "%7s ", lambda r: r[1].bytes / 1024),
    Column("AVGms", "%6.2f", lambda r: r[1].us / 1000 / r[1].io if r[1].io else 0.0),
]


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    constants = {"targ_pid": args.pid} if args.pid else {}
    table = Table(COLUMNS, json=args.json)

    def report(json):
        rows = sorted(tool.maps["counts"].pop_all(), key=lambda r: -r[1].bytes)[:args.maxrows]
        return top_report(table, rows, json, args.noclear)

    with Tool("biotop", constants) as tool:
        tool.attach_first("io_start_btf", "io_start_raw", "rq_insert_btf", "rq_insert_raw")
        tool.attach_first("rq_issue_btf", "rq_issue_raw")
        tool.attach_first("rq_complete_btf", "rq_complete_raw")
        run_top(report, args)
    return 0


if __name__ == "__main__":
    from .lib.runtime import run_tool
    sys.exit(run_tool(main, sys.argv[1:]))
