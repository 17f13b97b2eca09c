"""gethostlatency: show latency of getaddrinfo/gethostbyname[2] calls (bcc's columns and flags)."""
import sys

from ..output.table import Column
from .lib.args import add_duration_and_json, add_ebpf, pid, tool_parser
from .lib.runtime import fail, libc_or_fail, run_tool
from .lib.snoop import set_constants, snoop
from .lib.timestamps import wall_clock

EXAMPLES = """examples:
    ./gethostlatency           # time getaddrinfo/gethostbyname[2] calls
    ./gethostlatency -p 181    # only trace PID 181
"""

FUNCTIONS = ("getaddrinfo", "gethostbyname", "gethostbyname2")


def parse_args(argv):
    p = tool_parser("gethostlatency", "Show latency for getaddrinfo/gethostbyname[2] calls",
                    EXAMPLES)
    p.add_argument("-p", "--pid", help="trace this PID only", type=pid)
    add_ebpf(p, "gethostlatency")
    add_duration_and_json(p, "stop after this many seconds (pybcc extension)")
    return p.parse_args(argv)


COLUMNS = [
    Column("TIME", "%-9s ", wall_clock),
    Column("PID", "%-7d ", "pid"),
    Column("COMM", "%-16s ", "comm"),
    Column("LATms", "%10.2f ", lambda e: e.delta_ns / 1e6, key="lat_ms"),
    Column("HOST", "%s", "host"),
]


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    libc = libc_or_fail("gethostlatency", args.pid)

    def attach(tool):
        for func in FUNCTIONS:
            for prog, retprobe in (("lookup_entry", False), ("lookup_return", True)):
                found = tool.attach_uprobe(prog, libc, func, retprobe, args.pid)
                if not found and func == "getaddrinfo":   # the others are legacy, maybe absent
                    fail(f"gethostlatency: {libc} has no {func}")
    return snoop("gethostlatency", args, COLUMNS, set_constants(targ_pid=args.pid),
                 attach=attach)


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
