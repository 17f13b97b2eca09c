"""mysqld_qslower: MySQL/MariaDB server queries slower than a threshold
(bcc's arguments and output)."""
import sys

from ..output.table import Table
from .dbslower import query_columns
from .lib.args import add_duration_and_json, number, pid, tool_parser
from .lib.dbprobes import ENGINES, QueryProbes, binary_of
from .lib.runtime import run_tool, status
from .lib.snoop import print_events
from .lib.timestamps import SinceFirst

EXAMPLES = """examples:
    ./mysqld_qslower `pgrep -n mysqld`       # queries slower than 1 ms
    ./mysqld_qslower `pgrep -n mysqld` 0.1   # queries slower than 0.1 ms
    ./mysqld_qslower `pgrep -n mysqld` 0     # every query

USDT probes mysql:query__start/done where mysqld has them (-DENABLE_DTRACE=1),
else a uprobe on dispatch_command (Debian's MariaDB has no USDT probes).
"""

QUERY_MAX = 128     # bcc's query length here (dbslower shows 256)


_threshold = number(float, "threshold", lambda v: v >= 0, "must not be negative, not {text}")


def threshold_text(text):
    """min_ms as given: bcc prints it as typed ("0.1")."""
    _threshold(text)
    return text


def parse_args(argv):
    p = tool_parser("mysqld_qslower", "MySQL server queries slower than a threshold",
                    EXAMPLES, usage="%(prog)s PID [min_ms]")
    p.add_argument("pid", type=pid, help="the mysqld (or mariadbd) process")
    p.add_argument("min_ms", nargs="?", default="1", type=threshold_text,
                   help="threshold in milliseconds (default 1)")
    add_duration_and_json(p, "stop after this many seconds (pybcc extension)")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    engine = ENGINES["mysql"]
    with QueryProbes(engine, [binary_of(args.pid, "mysqld_qslower")], [args.pid],
                     min_ns=int(float(args.min_ms) * 1000000)) as tool:
        status("Tracing MySQL server queries for PID %d slower than %s ms..." %
               (args.pid, args.min_ms), args.json)
        table = Table(query_columns(SinceFirst("timestamp", 1e9), QUERY_MAX), json=args.json)
        print_events(tool, table, args.duration)
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
