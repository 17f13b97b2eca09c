"""tcptracer: TCP connections connected, accepted and closed (bcc's columns and flags)."""
from _socket import AF_INET   # (see lib/inet.py)
import sys

from ..output.table import Column, Table
from .lib.args import pid, tool_parser
from .lib.containers import ContainerSets
from .lib.inet import (add_container_args, add_family_args, attach_accept_exits,
                       container_constants, daddr, family_constants, ip_version, netns_inode,
                       parse_tool_args, pid_constant, saddr, stream_table)
from .lib.runtime import Tool, run_tool
from .lib.timestamps import SinceFirst

EXAMPLES = """examples:
    ./tcptracer           # trace TCP connects, accepts and closes
    ./tcptracer -t        # include timestamps
    ./tcptracer -v        # verbose: event names, TIME(ns) and NETNS
    ./tcptracer -p 181    # only trace PID 181
    ./tcptracer -N 4026531992   # only trace this network namespace
    ./tcptracer -4        # trace IPv4 family only
    ./tcptracer -6        # trace IPv6 family only
    ./tcptracer --cgroupmap mappath  # only trace cgroups in this BPF map
    ./tcptracer --mntnsmap mappath   # only trace mount namespaces in the map

pybcc follows sock:inet_sock_set_state and the accept syscalls (bcc: kprobes).
C is reported when the connection is established, for the process that called
connect(); A at accept()/accept4()'s return (io_uring accepts are not seen);
X when the local side starts closing an established connection: close() or
shutdown() (bcc: tcp_close, so pybcc reports a shutdown() before the close),
or a reset, shown with the process that connected or accepted the socket.
"""

TYPES = {1: "C", 2: "A", 3: "X"}
VERBOSE_TYPES = {"C": "connect", "A": "accept", "X": "close", "U": "unknown"}


def parse_args(argv):
    p = tool_parser("tcptracer", "Trace TCP connections", EXAMPLES)
    p.add_argument("-t", "--timestamp", action="store_true", help="include timestamp on output")
    p.add_argument("-p", "--pid", type=pid, help="trace this PID only")
    p.add_argument("-N", "--netns", default=0, type=netns_inode,
                   help="trace this Network Namespace only")
    add_container_args(p)
    add_family_args(p)
    p.add_argument("-v", "--verbose", action="store_true",
                   help="include Network Namespace in the output")
    return parse_tool_args(p, argv)


def bracketed(address):
    """bcc prints IPv6 addresses in brackets."""
    return lambda e: address(e) if e.af == AF_INET else "[%s]" % address(e)


def columns(args):
    verbose = args.verbose
    kind = lambda e: TYPES.get(e.type, "U")   # noqa: E731
    time_column = (Column("TIME(ns)", "%-14d", SinceFirst("ts_ns", 1), key="time_ns")
                   if verbose else Column("TIME(s)", "%-9.3f", SinceFirst("ts_ns", 1e9)))
    return [
        time_column if args.timestamp else None,
        Column("TYPE", "%-12s ", lambda e: VERBOSE_TYPES[kind(e)], key="type") if verbose
        else Column("T", "%-2s ", kind, key="type"),
        Column("PID", "%-6d ", "pid"),
        Column("COMM", "%-16s ", "task"),
        Column("IP", "%-2d ", ip_version),
        Column("SADDR", "%-16s ", bracketed(saddr), json=saddr),
        Column("DADDR", "%-16s ", bracketed(daddr), json=daddr),
        Column("SPORT", "%-6d ", "lport"),
        # bcc's verbose header is one wider here, for the NETNS after it
        Column("DPORT", "%-6d", "dport", head="%-7s" if verbose else "%-6s"),
        Column("NETNS", " %-8d", "netns", head="%-8s") if verbose and not args.netns else None,
    ]


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    constants = {**family_constants(args), **pid_constant(args), "targ_netns": args.netns,
                 **container_constants(args)}
    table = Table(columns(args), json=args.json)

    with Tool("tcptracer", constants, events=True) as tool:
        containers = ContainerSets(tool, args.cgroupmap, args.mntnsmap)
        containers.sync()
        tool.attach("set_state")
        attach_accept_exits(tool)
        stream_table(tool, table, args, "Tracing TCP established connections. Ctrl-C to end.",
                     containers)
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
