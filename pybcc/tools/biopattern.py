"""biopattern: random vs sequential block I/O per disk (libbpf-tools' columns)."""
import sys
from time import strftime

from ..output.table import Column, Table
from .lib.args import add_interval_count, add_json, tool_parser
from .lib.disks import devt_split, disk_arg, disk_name
from .lib.report import report_loop
from .lib.runtime import Tool, status

EXAMPLES = """examples:
    ./biopattern              # show block I/O pattern
    ./biopattern 1 10         # print 1 second summaries, 10 times
    ./biopattern -T 1         # 1s summaries with timestamps
    ./biopattern -d sdc       # trace sdc only
    ./biopattern --json 1     # NDJSON, one object per interval (pybcc)

Source: block_rq_complete as tp_btf, else its raw tracepoint (libbpf-tools: the
classic tracepoint). A request is sequential when it starts at the sector where
the disk's previous completed request ended. Differs from libbpf-tools: the
first request after each interval is compared with the one before the interval
(libbpf-tools forgets the last sector and leaves it out).
"""


def parse_args(argv):
    p = tool_parser("biopattern", "Show block device I/O pattern.", EXAMPLES)
    p.add_argument("-T", "--timestamp", action="store_true", help="Include timestamp on output")
    p.add_argument("-d", "--disk", type=disk_arg, help="Trace this disk only")
    add_interval_count(p)
    add_json(p)
    return p.parse_args(argv)


def percent(part, r):
    total = r[1].random + r[1].sequential
    return part * 100 // total


def columns(args):
    """libbpf-tools' columns; a row is (dev, counter)."""
    return [
        Column("TIME", "%-9s ", lambda r: strftime("%H:%M:%S")) if args.timestamp else None,
        Column("DISK", "%-7s ", lambda r: disk_name(*devt_split(r[0])) or "Unknown"),
        Column("%RND", "%5d ", lambda r: percent(r[1].random, r), key="pct_rnd"),
        Column("%SEQ", "%5d ", lambda r: percent(r[1].sequential, r), key="pct_seq"),
        Column("COUNT", "%8d ", lambda r: r[1].random + r[1].sequential),
        Column("KBYTES", "%10d", lambda r: r[1].bytes // 1024),
    ]


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    constants = {}
    if args.disk:
        constants = {"filter_dev": True, "targ_major": args.disk[0], "targ_minor": args.disk[1]}
    table = Table(columns(args), json=args.json)

    def report(json):
        rows = sorted((r for r in tool.maps["counters"].pop_all()
                       if r[1].random + r[1].sequential), key=lambda r: r[0])
        if json:
            return {"rows": [table.as_dict(r) for r in rows]}
        return "".join(table.text(r) + "\n" for r in rows)

    with Tool("biopattern", constants) as tool:
        tool.attach_first("rq_complete_btf", "rq_complete_raw")
        status("Tracing block device I/O requested seeks... Hit Ctrl-C to end.", args.json)
        table.print_header()
        report_loop(report, args.interval, args.count, None, args.json, blank_line=False)
    return 0


if __name__ == "__main__":
    from .lib.runtime import run_tool
    sys.exit(run_tool(main, sys.argv[1:]))
