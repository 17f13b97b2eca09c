"""tcpconnlat: TCP connect latency (bcc's columns and flags)."""
import argparse
import sys

from ..output.table import Column
from .lib.args import pid, tool_parser
from .lib.inet import (add_family_args, connect_columns, family_constants, parse_tool_args,
                       pid_constant)
from .lib.runtime import run_tool
from .lib.snoop import snoop
from .lib.timestamps import SinceFirst

EXAMPLES = """examples:
    ./tcpconnlat           # trace all TCP connect()s
    ./tcpconnlat 1         # trace connection latency slower than 1 ms
    ./tcpconnlat 0.1       # trace connection latency slower than 100 us
    ./tcpconnlat -t        # include timestamps
    ./tcpconnlat -p 181    # only trace PID 181
    ./tcpconnlat -L        # include LPORT while printing outputs
    ./tcpconnlat -4        # trace IPv4 family only
    ./tcpconnlat -6        # trace IPv6 family only

The latency runs from the socket entering SYN_SENT (in connect(), after the
route lookup; bcc starts at tcp_v[46]_connect's entry) to the SYN-ACK.
"""


def non_negative_float(text):
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("must be a float") from None
    if not v >= 0:
        raise argparse.ArgumentTypeError("must be positive")
    return v


def parse_args(argv):
    p = tool_parser("tcpconnlat", "Trace TCP connects and show connection latency", EXAMPLES)
    p.add_argument("-t", "--timestamp", action="store_true", help="include timestamp on output")
    p.add_argument("-p", "--pid", type=pid, help="trace this PID only")
    p.add_argument("-L", "--lport", action="store_true", help="include LPORT on output")
    add_family_args(p)
    p.add_argument("duration_ms", nargs="?", default=0, type=non_negative_float,
                   help="minimum duration to trace (ms)")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="print the BPF program for debugging purposes")
    return parse_tool_args(p, argv)


def columns(args):
    return [
        Column("TIME(s)", "%-9.3f", SinceFirst("ts_us", 1e6)) if args.timestamp else None,
        *connect_columns(args),
        Column("DPORT", "%-5d ", "dport"),
        Column("LAT(ms)", "%.2f", lambda e: e.delta_us / 1000, key="lat_ms"),
    ]


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.verbose:
        print(open(__file__.replace(".py", ".bpf.c")).read())
    # bcc rounds fractions to the microsecond
    constants = {**family_constants(args), **pid_constant(args),
                 "min_us": int(args.duration_ms * 1000)}
    return snoop("tcpconnlat", args, columns(args), constants, programs=["set_state"])


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
