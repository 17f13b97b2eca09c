"""dcsnoop: trace directory entry cache (dcache) lookups (bcc's columns)."""
import sys
import time

from ..output.table import Column, Table
from .lib.args import add_duration_and_json, tool_parser
from .lib.dcache import lookup_fast_symbol, require_kprobes
from .lib.runtime import Tool
from .lib.snoop import print_events

EXAMPLES = """examples:
    ./dcsnoop           # trace failed dcache lookups
    ./dcsnoop -a        # trace all dcache lookups
    ./dcsnoop --json    # NDJSON, one object per lookup (pybcc)

Source: kprobes, as bcc: d_lookup() and its return (a NULL return is a miss,
T=M) and, with -a, lookup_fast() (a reference, T=R). The dcache has no
tracepoints: without kprobes dcsnoop says so and exits.
"""


def columns(start):
    return [
        Column("TIME(s)", "%-11.6f ", lambda e: time.time() - start),
        Column("PID", "%-7d ", "pid"),
        Column("COMM", "%-16s ", "comm"),
        Column("T", "%1s ", lambda e: "R" if e.type else "M"),
        Column("FILE", "%s", "filename", key="file"),
    ]


def parse_args(argv):
    p = tool_parser("dcsnoop", "Trace directory entry cache (dcache) lookups", EXAMPLES)
    p.add_argument("-a", "--all", action="store_true",
                   help="trace all lookups (default is fails only)")
    add_duration_and_json(p, "stop after this many seconds (pybcc)")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    require_kprobes("dcsnoop")
    with Tool("dcsnoop", events=True) as tool:
        if args.all:
            tool.attach("trace_fast", lookup_fast_symbol())
        tool.attach("d_lookup_entry")
        tool.attach("d_lookup_return")
        print_events(tool, Table(columns(time.time()), json=args.json), args.duration)
    return 0


if __name__ == "__main__":
    from .lib.runtime import run_tool
    sys.exit(run_tool(main, sys.argv[1:]))
