"""bindsnoop: trace bind() on IPv4/IPv6 sockets (bcc's columns and flags)."""
import argparse
import os
import socket
import sys

from ..output.table import Column, Table
from .lib.args import pid, tool_parser, uid
from .lib.containers import ContainerSets
from .lib.inet import (add_container_args, by_family, container_constants, format_addr,
                       parse_tool_args, pid_constant, ports, ports_constant,
                       stream_table, wait_for_interrupt, write_counts)
from .lib.runtime import Tool, run_tool
from .lib.timestamps import SinceFirst

EXAMPLES = """examples:
    ./bindsnoop           # trace all TCP bind()s
    ./bindsnoop -t        # include timestamps
    ./bindsnoop -w        # wider columns (fit IPv6)
    ./bindsnoop -p 181    # only trace PID 181
    ./bindsnoop -P 80     # only trace port 80
    ./bindsnoop -P 80,81  # only trace port 80 and 81
    ./bindsnoop -U        # include UID
    ./bindsnoop -u 1000   # only trace UID 1000
    ./bindsnoop -E        # report bind errors
    ./bindsnoop --count   # count bind per src ip
    ./bindsnoop --cgroupmap mappath  # only trace cgroups in this BPF map
    ./bindsnoop --mntnsmap  mappath  # only trace mount namespaces in the map

it is reporting socket options set before the bins call
impacting system call behavior:
 SOL_IP     IP_FREEBIND              F....
 SOL_IP     IP_TRANSPARENT           .T...
 SOL_IP     IP_BIND_ADDRESS_NO_PORT  ..N..
 SOL_SOCKET SO_REUSEADDR             ...R.
 SOL_SOCKET SO_REUSEPORT             ....r

 SO_BINDTODEVICE interface is reported as "IF" index

pybcc traces the bind() syscall (bcc: inet_bind/inet6_bind), so binds made
inside the kernel or through io_uring are not seen; ADDR is the address
asked for.
"""

# protocol numbers → bcc's names (the IPPROTO_* constants of the socket module)
PROTOCOLS = {v: k[len("IPPROTO_"):] for k, v in vars(socket).items()
             if k.startswith("IPPROTO_") and isinstance(v, int)}


def parse_args(argv):
    p = tool_parser("bindsnoop", "Trace TCP binds", EXAMPLES)
    p.add_argument("-t", "--timestamp", action="store_true", help="include timestamp on output")
    p.add_argument("-w", "--wide", action="store_true",
                   help="wide column output (fits IPv6 addresses)")
    p.add_argument("-p", "--pid", type=pid, help="trace this PID only")
    p.add_argument("-P", "--port", type=ports, help="comma-separated list of ports to trace.")
    p.add_argument("-E", "--errors", action="store_true", help="include errors in the output.")
    p.add_argument("-U", "--print-uid", action="store_true", help="include UID on output")
    p.add_argument("-u", "--uid", type=uid, help="trace this UID only")
    p.add_argument("--count", action="store_true", help="count binds per src ip and port")
    add_container_args(p)
    p.add_argument("--debug-source", action="store_true", help=argparse.SUPPRESS)
    return parse_tool_args(p, argv)


def opts_text(bits):
    return "".join(c if bits & (1 << i) else "." for i, c in enumerate("FTNRr"))


def address(e):
    return format_addr(e.af, e.addr)


def columns(args):
    wide = args.wide
    return [
        Column("TIME(s)", "%-9.6f ", SinceFirst("ts_us", 1e6)) if args.timestamp else None,
        Column("UID", "%6d ", "uid") if args.print_uid else None,
        # bcc's RC: the return code, or with -w its error text
        (Column("RC", "%-25s ", lambda e: os.strerror(-e.ret), key="rc", json="ret") if wide
         else Column("RC", "%3s ", "ret", key="rc")) if args.errors else None,
        Column("PID", "%10d " if wide else "%8d ", "pid"),
        Column("COMM", "%-12.12s ", "task"),
        Column("PROT", "%-4s " if wide else "%-4.4s ", lambda e: PROTOCOLS.get(e.protocol, "UNKNOWN"),
               head="%-4s "),
        Column("ADDR", "%-39s " if wide else "%-15.15s ", address,
               head="%-39s " if wide else "%-15s "),
        Column("PORT", "%5d ", "port", head="%-5s "),
        Column("OPTS", "%-5s ", lambda e: opts_text(e.opts), head="%5s "),
        Column("IF", "%2d", "bound_dev_if", head="%2s"),
    ]


COUNT_COLUMNS = [
    Column("LADDR", "%-32s ", lambda kv: format_addr(kv[0].af, kv[0].addr)),
    Column("LPORT", "%20s     ", lambda kv: kv[0].port),
    Column("BINDS", "%-10d", lambda kv: kv[1], head="%-10s"),
]


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    constants = {"show_errors": args.errors, "do_count": args.count, **pid_constant(args),
                 **container_constants(args)}
    if args.uid is not None:
        constants.update(filter_uid=True, targ_uid=args.uid)
    if args.port:
        constants.update(n_ports=len(args.port), ports=ports_constant(args.port))

    with Tool("bindsnoop", constants, events=not args.count) as tool:
        containers = ContainerSets(tool, args.cgroupmap, args.mntnsmap)
        containers.sync()
        tool.attach("bind_enter")
        tool.attach("bind_exit")
        if args.count:
            wait_for_interrupt("Tracing binds ... Hit Ctrl-C to end", args.json, args.duration)
            rows = sorted(tool.maps["counts"].items(), key=lambda kv: kv[1], reverse=True)
            write_counts(Table(COUNT_COLUMNS, json=args.json), by_family(rows))
            return 0
        stream_table(tool, Table(columns(args), json=args.json), args,
                     "Tracing binds ... Hit Ctrl-C to end", containers)
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
