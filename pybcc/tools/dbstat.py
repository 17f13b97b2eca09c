"""dbstat: a histogram of MySQL/MariaDB and PostgreSQL query latencies
(bcc's flags and output)."""
import sys
import time

from ..output.histogram import collect_sections, sections_json, sections_text
from .dbslower import add_db_args, print_source, traced_text
from .lib.args import add_duration_and_json, positive_int, tool_parser
from .lib.dbprobes import ENGINES, QueryProbes, targets
from .lib.report import FOREVER, report_loop
from .lib.runtime import run_tool, status

EXAMPLES = """
    dbstat postgres     # display a histogram of PostgreSQL query latencies
    dbstat mysql -v     # display MySQL latencies and print the BPF program
    dbstat mysql -u     # display query latencies in microseconds (default: ms)
    dbstat mysql -m 5   # trace only queries slower than 5ms
    dbstat mysql -p 408 # trace queries in a specific process
    dbstat mysql -x $(which mysqld)  # trace every server of this binary (pybcc)

USDT probes (query__start/done) where the server has them, else a uprobe on
dispatch_command (MySQL, MariaDB) or exec_simple_query (PostgreSQL, needs its
symbols). Without -p or -x: every running mysqld/mariadbd or postgres, including
processes that start later (bcc: the pids running at start). A -p PID also
covers its children (PostgreSQL's backends under the postmaster).
"""


def parse_args(argv):
    p = tool_parser("dbstat", "Display a histogram of MySQL and PostgreSQL query latencies",
                    EXAMPLES)
    add_db_args(p, threshold=0)
    p.add_argument("-u", "--microseconds", action="store_true",
                   help="display query latencies in microseconds (default: milliseconds)")
    p.add_argument("-i", "--interval", type=positive_int, default=FOREVER,
                   help="print summary at this interval (seconds)")
    add_duration_and_json(p, "stop after this many seconds (pybcc extension)")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    print_source(args.verbose)
    engine = ENGINES[args.db]
    binaries, pids, keep = targets("dbstat", engine, args.pids, args.path)
    unit = "us" if args.microseconds else "ms"
    label = f"query latency ({unit})"
    with QueryProbes(engine, binaries, keep, min_ns=args.threshold * 1000000,
                     hist_unit_ns=1000 if args.microseconds else 1000000) as tool:
        status(f"Tracing database queries for {traced_text(args, pids)} slower than "
               f"{args.threshold} ms...", args.json)

        def report(json):
            hists = collect_sections(tool.maps["hists"])
            if json:
                return sections_json(hists, unit)
            return "[%s]\n%s\n" % (time.strftime("%H:%M:%S"),
                                   sections_text(hists, label))
        report_loop(report, args.interval, None, args.duration, args.json, blank_line=False)
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
