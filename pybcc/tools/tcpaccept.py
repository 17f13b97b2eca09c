"""tcpaccept: TCP connections accepted by processes (bcc's columns and flags)."""
import sys

from ..output.table import Column, Table
from .lib.args import pid, tool_parser
from .lib.containers import ContainerSets
from .lib.inet import (add_container_args, add_family_args, attach_accept_exits,
                       container_constants, daddr, family_constants, ip_version, parse_tool_args,
                       pid_constant, ports, ports_constant, saddr, stream_table)
from .lib.runtime import Tool, run_tool
from .lib.timestamps import SinceFirst, wall_clock

EXAMPLES = """examples:
    ./tcpaccept           # trace all TCP accept()s
    ./tcpaccept -t        # include timestamps
    ./tcpaccept -P 80,81  # only trace port 80 and 81
    ./tcpaccept -p 181    # only trace PID 181
    ./tcpaccept --cgroupmap mappath  # only trace cgroups in this BPF map
    ./tcpaccept --mntnsmap mappath   # only trace mount namespaces in the map
    ./tcpaccept -4        # trace IPv4 family
    ./tcpaccept -6        # trace IPv6 family

pybcc traces the accept()/accept4() syscalls' return (bcc: inet_csk_accept),
so PID/COMM are always the accepting process; accepts made through io_uring
are not seen.
"""


def parse_args(argv):
    p = tool_parser("tcpaccept", "Trace TCP accepts", EXAMPLES)
    p.add_argument("-T", "--time", action="store_true",
                   help="include time column on output (HH:MM:SS)")
    p.add_argument("-t", "--timestamp", action="store_true", help="include timestamp on output")
    p.add_argument("-p", "--pid", type=pid, help="trace this PID only")
    p.add_argument("-P", "--port", type=ports,
                   help="comma-separated list of local ports to trace")
    add_family_args(p)
    add_container_args(p)
    return parse_tool_args(p, argv)


def columns(args):
    return [
        Column("TIME", "%-9s", wall_clock) if args.time else None,
        Column("TIME(s)", "%-9.3f", SinceFirst("ts_us", 1e6)) if args.timestamp else None,
        Column("PID", "%-7d ", "pid"),
        Column("COMM", "%-12.12s ", "task"),
        Column("IP", "%-2d ", ip_version),
        Column("RADDR", "%-16s ", daddr),
        Column("RPORT", "%-5d ", "dport"),
        Column("LADDR", "%-16s ", saddr),
        Column("LPORT", "%-5d", "lport"),
    ]


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    constants = {**family_constants(args), **pid_constant(args),
                 **container_constants(args)}
    if args.port:
        constants.update(n_lports=len(args.port), lports=ports_constant(args.port))
    table = Table(columns(args), json=args.json)

    with Tool("tcpaccept", constants, events=True) as tool:
        containers = ContainerSets(tool, args.cgroupmap, args.mntnsmap)
        containers.sync()
        attach_accept_exits(tool)
        stream_table(tool, table, args, containers=containers)
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
