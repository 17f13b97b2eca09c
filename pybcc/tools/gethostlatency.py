"""gethostlatency: show latency of getaddrinfo/gethostbyname[2] calls (bcc's columns and flags)."""
import argparse
import os
import sys

from ..attach import uprobe
from ..output.table import Column, Table
from ..symbols import elfsyms
from ..symbols.libpath import find_library
from .lib.args import add_duration, add_json, pid, tool_parser
from .lib.runtime import TOOLS_DIR, Tool, fail, stream_events
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
    p.add_argument("--ebpf", action="store_true", help=argparse.SUPPRESS)
    add_duration(p, "stop after this many seconds (pybcc extension)")
    add_json(p)
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
    if args.ebpf:
        with open(os.path.join(TOOLS_DIR, "gethostlatency.bpf.c")) as f:
            print(f.read())
        return 0
    pid = args.pid
    libc = find_library("c", pid)
    if not libc:
        fail("gethostlatency: cannot find libc" + (f" of PID {pid}" if pid else ""))
    constants = {"targ_pid": pid} if pid else {}
    table = Table(COLUMNS, json=args.json)

    with Tool("gethostlatency", constants, events=True) as tool:
        entry = tool.coll.load_program("lookup_entry")
        ret = tool.coll.load_program("lookup_return")
        syms = elfsyms.load(libc)
        for func in FUNCTIONS:
            sym = syms.find(func)
            if sym is None:
                if func == "getaddrinfo":   # the others are legacy, maybe absent
                    fail(f"gethostlatency: {libc} has no {func}")
                continue
            for prog, retprobe in ((entry, False), (ret, True)):
                tool.links.append(uprobe.attach_uprobe(prog.fd, libc, offset=sym.offset,
                                                       retprobe=retprobe, pid=pid or -1))

        decode = tool.record("event").decode
        tool.open_events(lambda data: table.write(decode(data)))
        table.print_header()
        stream_events(tool, args.duration)
    return 0


if __name__ == "__main__":
    from .lib.runtime import run_tool
    sys.exit(run_tool(main, sys.argv[1:]))
