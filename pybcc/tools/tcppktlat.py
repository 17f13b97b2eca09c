"""tcppktlat: latency from a TCP segment's arrival to its read by the application
(libbpf-tools' tool: its columns and flags)."""
import sys

from ..output.table import Column, Table
from .lib.args import int_between, pid, positive_int, tool_parser
from .lib.inet import daddr, parse_tool_args, pid_constant, saddr, stream_table
from .lib.runtime import Tool, run_tool
from .lib.timestamps import wall_clock

EXAMPLES = """examples:
    tcppktlat             # Trace all TCP packet picked up latency
    tcppktlat -T          # summarize with timestamps
    tcppktlat -p          # filter for pid
    tcppktlat -t          # filter for tid
    tcppktlat -l          # filter for local port
    tcppktlat -r          # filter for remote port
    tcppktlat 1000        # filter for latency higher than 1000us

The time runs from the last segment with data processed before the read
(tcp:tcp_probe) to tcp_rcv_space_adjust in the reader's recvmsg, as in
libbpf-tools; -T prints the wall clock under libbpf-tools' TIME(s) header.
"""

port = int_between(1, 65535, "port")


def parse_args(argv):
    p = tool_parser("tcppktlat", "Trace latency between TCP received pkt and picked up by "
                    "userspace thread.", EXAMPLES)
    p.add_argument("-p", "--pid", type=pid, help="Process PID to trace")
    p.add_argument("-t", "--tid", type=positive_int, help="Thread TID to trace")
    p.add_argument("-T", "--timestamp", action="store_true", help="include timestamp on output")
    p.add_argument("-l", "--lport", type=port, help="filter for local port")
    p.add_argument("-r", "--rport", type=port, help="filter for remote port")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="Verbose debug output (pybcc: the programs attached)")
    p.add_argument("-w", "--wide", action="store_true",
                   help="Wide column output (fits IPv6 addresses)")
    p.add_argument("min_us", nargs="?", default=0, type=positive_int,
                   help="only show latencies above this many microseconds")
    return parse_tool_args(p, argv)


def columns(args):
    width = 26 if args.wide else 15
    return [
        Column("TIME(s)", "%-8s ", wall_clock, key="time") if args.timestamp else None,
        Column("PID", "%-7d ", "pid"),
        Column("TID", "%-7d ", "tid"),
        Column("COMM", "%-16s ", "task"),
        Column("LADDR", f"%-{width}s ", saddr),
        Column("LPORT", "%-5d ", "lport"),
        Column("RADDR", f"%-{width}s ", daddr),
        Column("RPORT", "%-5d ", "dport", key="rport"),
        Column("MS", "%-.2f", lambda e: e.delta_us / 1000, head="%-s"),
    ]


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    constants = {**pid_constant(args), "targ_tid": args.tid or 0, "targ_lport": args.lport or 0,
                 "targ_rport": args.rport or 0, "min_us": args.min_us}
    with Tool("tcppktlat", constants, events=True) as tool:
        for hook in ("probe", "space_adjust", "destroy"):
            tool.attach_first(f"{hook}_btf", f"{hook}_raw")
        if args.verbose:
            print("\n".join(f"attached {m}" for m in tool.mechanisms), file=sys.stderr)
        stream_table(tool, Table(columns(args), json=args.json), args)
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
