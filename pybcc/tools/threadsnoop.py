"""threadsnoop: list new threads created through pthread_create() (bcc's columns)."""
import sys

from ..output.table import Column
from ..symbols.resolver import sym
from .lib.args import add_duration_and_json, pid, tool_parser
from .lib.runtime import fail, libc_or_fail, run_tool
from .lib.snoop import set_constants, snoop
from .lib.timestamps import SinceFirst

EXAMPLES = """examples:
    ./threadsnoop           # trace pthread_create() in every process using libc
    ./threadsnoop -p 181    # only PID 181 (pybcc extension)

A uprobe on libc's pthread_create, as in bcc: threads made without libc's
pthread_create (Go, raw clone()) are not shown.
"""


def parse_args(argv):
    p = tool_parser("threadsnoop", "List new thread creation.", EXAMPLES)
    p.add_argument("-p", "--pid", type=pid, help="trace this PID only (pybcc extension)")
    add_duration_and_json(p, "stop after this many seconds (pybcc extension)")
    return p.parse_args(argv)


def start_routine(e):
    """bcc's FUNC: the start routine's symbol, or its address when unknown."""
    name = sym(e.start, e.pid)
    name = name.decode(errors="replace") if isinstance(name, bytes) else name
    return hex(e.start) if name == "[unknown]" else name


def columns():
    since_first = SinceFirst("ts", 1e6)
    return [
        Column("TIME(ms)", "%-10d ", lambda e: int(since_first(e)), key="time_ms"),
        Column("PID", "%-6d ", "pid"),
        Column("COMM", "%-16s ", "comm"),
        Column("FUNC", "%s", start_routine),
    ]


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    libc = libc_or_fail("threadsnoop", args.pid)

    def attach(tool):
        if not tool.attach_uprobe("pthread_create_entry", libc, "pthread_create", pid=args.pid):
            fail(f"threadsnoop: {libc} has no pthread_create")
    return snoop("threadsnoop", args, columns(), set_constants(targ_pid=args.pid),
                 attach=attach)


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
