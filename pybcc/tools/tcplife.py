"""tcplife: TCP sessions with their lifespan and throughput (bcc's columns and flags)."""
import sys

from .lib.args import pid, tool_parser
from .lib.inet import (add_family_args, add_layout_args, add_port_args, daddr, family_constants,
                       ip_column, layout_columns, parse_tool_args, pid_constant, port_constants,
                       saddr)
from .lib.runtime import run_tool
from .lib.snoop import snoop

EXAMPLES = """examples:
    ./tcplife           # trace all TCP connect()s
    ./tcplife -T        # include time column (HH:MM:SS)
    ./tcplife -w        # wider columns (fit IPv6)
    ./tcplife -stT      # csv output, with times & timestamps
    ./tcplife -p 181    # only trace PID 181
    ./tcplife -L 80     # only trace local port 80
    ./tcplife -L 80,81  # only trace local ports 80 and 81
    ./tcplife -D 80     # only trace remote port 80
    ./tcplife -4        # only trace IPv4 family
    ./tcplife -6        # only trace IPv6 family
"""


def parse_args(argv):
    p = tool_parser("tcplife", "Trace the lifespan of TCP sessions and summarize", EXAMPLES)
    add_layout_args(p)
    p.add_argument("-p", "--pid", type=pid, help="trace this PID only")
    add_port_args(p)
    add_family_args(p)
    return parse_tool_args(p, argv)


# bcc's three layouts (value format, header format); the default fits 80 columns
LAYOUTS = {
    "default": ("%-5d %-10.10s %s%-15s %-5d %-15s %-5d %5d %5d %.2f",
                "%-5s %-10.10s %s%-15s %-5s %-15s %-5s %5s %5s %s"),
    "wide": ("%-5d %-16.16s %-2s %-26s %-5s %-26s %-5d %6d %6d %.2f",
             "%-5s %-16.16s %-2s %-26s %-5s %-26s %-5s %6s %6s %s"),
    "csv": ("%d,%s,%s,%s,%s,%s,%d,%d,%d,%.2f", "%s,%s,%s,%s,%s,%s,%s,%s,%s,%s"),
}


def columns(args):
    return layout_columns(args, LAYOUTS, [
        ("PID", "pid", None),
        ("COMM", "task", None),
        ip_column(args),
        ("LADDR", saddr, None),
        ("LPORT", "lport", None),
        ("RADDR", daddr, None),
        ("RPORT", "dport", None),
        ("TX_KB", lambda e: e.tx_b // 1024, None),
        ("RX_KB", lambda e: e.rx_b // 1024, None),
        ("MS", lambda e: e.span_us / 1000, None),
    ])


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    constants = {**pid_constant(args), **family_constants(args), **port_constants(args)}
    return snoop("tcplife", args, columns(args), constants, programs=["set_state"])


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
