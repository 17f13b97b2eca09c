"""tcplife: TCP sessions with their lifespan and throughput (bcc's columns and flags)."""
import argparse
import re
import sys

from ..output.table import Column, Table, json_key
from .lib.args import add_duration, add_json, pid, tool_parser
from .lib.inet import (add_family_args, daddr, family_constants, ip_version, ports,
                       ports_constant, saddr)
from .lib.runtime import Tool, run_tool, stream_events
from .lib.timestamps import SinceFirst, wall_clock

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
    p.add_argument("-T", "--time", action="store_true",
                   help="include time column on output (HH:MM:SS)")
    p.add_argument("-t", "--timestamp", action="store_true",
                   help="include timestamp on output (seconds)")
    p.add_argument("-w", "--wide", action="store_true",
                   help="wide column output (fits IPv6 addresses)")
    p.add_argument("-s", "--csv", action="store_true", help="comma separated values output")
    p.add_argument("-p", "--pid", type=pid, help="trace this PID only")
    p.add_argument("-L", "--localport", type=ports,
                   help="comma-separated list of local ports to trace.")
    p.add_argument("-D", "--remoteport", type=ports,
                   help="comma-separated list of remote ports to trace.")
    add_family_args(p)
    p.add_argument("--ebpf", action="store_true", help=argparse.SUPPRESS)
    add_duration(p, "stop after this many seconds (pybcc extension)")
    add_json(p)
    return p.parse_args(argv)


# bcc's three layouts (value format, header format); the default fits 80 columns
LAYOUTS = {
    "default": ("%-5d %-10.10s %s%-15s %-5d %-15s %-5d %5d %5d %.2f",
                "%-5s %-10.10s %s%-15s %-5s %-15s %-5s %5s %5s %s"),
    "wide": ("%-5d %-16.16s %-2s %-26s %-5s %-26s %-5d %6d %6d %.2f",
             "%-5s %-16.16s %-2s %-26s %-5s %-26s %-5s %6s %6s %s"),
    "csv": ("%d,%s,%s,%s,%s,%s,%d,%d,%d,%.2f", "%s,%s,%s,%s,%s,%s,%s,%s,%s,%s"),
}
# a conversion with the separator after it
_PIECE = re.compile(r"%[-0-9.]*[a-z][^%]*")


def columns(args):
    layout = "csv" if args.csv else "wide" if args.wide else "default"
    show_ip = args.wide or args.csv
    values, heads = (_PIECE.findall(f) for f in LAYOUTS[layout])
    main = [
        ("PID", "pid", None),
        ("COMM", "task", None),
        # the default layout leaves the IP column empty
        ("IP" if show_ip else "", lambda e: str(ip_version(e)) if show_ip else "", ip_version),
        ("LADDR", saddr, None),
        ("LPORT", "lport", None),
        ("RADDR", daddr, None),
        ("RPORT", "dport", None),
        ("TX_KB", lambda e: e.tx_b // 1024, None),
        ("RX_KB", lambda e: e.rx_b // 1024, None),
        ("MS", lambda e: e.span_us / 1000, None),
    ]
    return [
        Column("TIME", "%s," if args.csv else "%-8s ", wall_clock) if args.time else None,
        Column("TIME(s)", "%.6f," if args.csv else "%-9.6f ", SinceFirst("ts_us", 1e6))
        if args.timestamp else None,
    ] + [Column(title, fmt, get, head=head, key=json_key(title or "IP"), json=json)
         for (title, get, json), fmt, head in zip(main, values, heads)]


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.ebpf:
        print(open(__file__.replace(".py", ".bpf.c")).read())
        return 0
    constants = {}
    if args.pid is not None:
        constants["targ_tgid"] = args.pid
    constants.update(family_constants(args))
    if args.localport:
        constants.update(n_lports=len(args.localport), lports=ports_constant(args.localport))
    if args.remoteport:
        constants.update(n_dports=len(args.remoteport), dports=ports_constant(args.remoteport))
    table = Table(columns(args), json=args.json)

    with Tool("tcplife", constants, events=True) as tool:
        tool.attach("set_state")
        decode = tool.record("event").decode
        tool.open_events(lambda data: table.write(decode(data)))
        table.print_header()
        stream_events(tool, args.duration)
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
