"""dbslower: trace MySQL/MariaDB and PostgreSQL queries slower than a
threshold (bcc's columns and flags)."""
import os
import sys

from ..output.table import Column, Table
from .lib.args import add_duration_and_json, add_ebpf, non_negative_int, pid, tool_parser
from .lib.dbprobes import ENGINES, QueryProbes, query_text, targets
from .lib.runtime import run_tool, status
from .lib.snoop import print_events

EXAMPLES = """examples:
    dbslower postgres            # trace PostgreSQL queries slower than 1ms
    dbslower postgres -p 188 322 # trace specific PostgreSQL processes
    dbslower mysql -p 480 -m 30  # trace MySQL queries slower than 30ms
    dbslower mysql -p 480 -v     # trace MySQL queries & print the BPF program
    dbslower mysql -x $(which mysqld)  # trace MySQL queries with uprobes

USDT probes (query__start/done) where the server has them, else a uprobe on
dispatch_command (MySQL, MariaDB) or exec_simple_query (PostgreSQL, needs its
symbols). Without -p or -x: every running mysqld/mariadbd or postgres,
including processes that start later (bcc: the pids running at start). A -p
PID also covers its children (PostgreSQL's backends under the postmaster).
"""


def add_db_args(p, threshold):
    """The arguments dbslower and dbstat share; ``threshold`` -m's default."""
    p.add_argument("-v", "--verbose", action="store_true", help="print the BPF program")
    p.add_argument("db", choices=sorted(ENGINES), help="the database engine to use")
    p.add_argument("-p", "--pid", type=pid, nargs="*", dest="pids", metavar="PID",
                   help="the pid(s) to trace")
    p.add_argument("-x", "--exe", type=str, dest="path", metavar="PATH",
                   help="path to binary")
    p.add_argument("-m", "--threshold", type=non_negative_int, default=threshold,
                   help="trace queries slower than this threshold (ms)")
    add_ebpf(p, "dbslower")


def parse_args(argv):
    p = tool_parser("dbslower", "Trace MySQL and PostgreSQL queries slower than a threshold",
                    EXAMPLES)
    add_db_args(p, threshold=1)
    add_duration_and_json(p, "stop after this many seconds (pybcc extension)")
    return p.parse_args(argv)


def query_columns(since, limit=None):
    """bcc's columns of dbslower and mysqld_qslower; ``since(e)`` the TIME(s)."""
    return [
        Column("TIME(s)", "%-14.6f ", since, key="time_s"),
        Column("PID", "%-7d ", "pid"),
        Column("MS", "%8.3f ", lambda e: e.duration / 1e6, key="ms"),
        Column("QUERY", "%s", lambda e: query_text(e, limit)),
    ]


def print_source(verbose):
    """-v: the BPF program, and which probes attach (PYBCC_DEBUG)."""
    if verbose:
        with open(os.path.join(os.path.dirname(__file__), "dbslower.bpf.c")) as f:
            print(f.read())
        os.environ["PYBCC_DEBUG"] = "1"


def traced_text(args, pids):
    """What the "Tracing database queries for ..." line names."""
    if args.path and not args.pids:
        return f"application {args.path}"
    return "pids " + ", ".join(map(str, pids))


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    print_source(args.verbose)
    engine = ENGINES[args.db]
    binaries, pids, keep = targets("dbslower", engine, args.pids, args.path)
    probes = QueryProbes(engine, binaries, keep, min_ns=args.threshold * 1000000)
    with probes as tool:
        status(f"Tracing database queries for {traced_text(args, pids)} slower than "
               f"{args.threshold} ms...", args.json)
        since = lambda e: (e.timestamp - probes.start_ns) / 1e9   # noqa: E731
        print_events(tool, Table(query_columns(since), json=args.json), args.duration)
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
