"""tcpconnect: trace active TCP connections (bcc's columns and flags)."""
import sys

from ..errors import AttachError, LoadError, NotSupportedError
from ..kernel import features
from ..output.table import Column, Table
from .lib.args import pid, tool_parser, uid
from .lib.containers import ContainerSets
from .lib.inet import (add_container_args, add_family_args, by_family, connect_columns,
                       container_constants, daddr, family_constants, parse_tool_args,
                       pid_constant, ports, ports_constant, saddr, stream_table,
                       wait_for_interrupt, write_counts)
from .lib.runtime import Tool, fail, run_tool
from .lib.timestamps import SinceFirst

EXAMPLES = """examples:
    ./tcpconnect           # trace all TCP connect()s
    ./tcpconnect -t        # include timestamps
    ./tcpconnect -d        # include DNS queries associated with connects
    ./tcpconnect -p 181    # only trace PID 181
    ./tcpconnect -P 80     # only trace port 80
    ./tcpconnect -P 80,81  # only trace port 80 and 81
    ./tcpconnect -4        # only trace IPv4 family
    ./tcpconnect -6        # only trace IPv6 family
    ./tcpconnect -U        # include UID
    ./tcpconnect -u 1000   # only trace UID 1000
    ./tcpconnect -c        # count connects per src ip and dest ip/port
    ./tcpconnect -L        # include LPORT while printing outputs
    ./tcpconnect --cgroupmap mappath  # only trace cgroups in this BPF map
    ./tcpconnect --mntnsmap mappath   # only trace mount namespaces in the map

-d takes names from uprobes on libc's getaddrinfo() (bcc parses DNS answers
seen by udp_recvmsg): names resolved by other resolvers (Go's, c-ares, a
cache) are not seen, and names from /etc/hosts are.
"""


def parse_args(argv):
    p = tool_parser("tcpconnect", "Trace TCP connects", EXAMPLES)
    p.add_argument("-t", "--timestamp", action="store_true", help="include timestamp on output")
    p.add_argument("-p", "--pid", type=pid, help="trace this PID only")
    p.add_argument("-P", "--port", type=ports,
                   help="comma-separated list of destination ports to trace.")
    add_family_args(p)
    p.add_argument("-L", "--lport", action="store_true", help="include LPORT on output")
    p.add_argument("-U", "--print-uid", action="store_true", help="include UID on output")
    p.add_argument("-u", "--uid", type=uid, help="trace this UID only")
    p.add_argument("-c", "--count", action="store_true",
                   help="count connects per src ip and dest ip/port")
    add_container_args(p)
    p.add_argument("-d", "--dns", action="store_true",
                   help="include likely DNS query associated with each connect")
    args = parse_tool_args(p, argv)
    if args.dns and args.count:
        p.error("-d/--dns may not be combined with -c/--count")
    return args


def columns(args, query=None):
    return [
        Column("TIME(s)", "%-9.3f", SinceFirst("ts_us", 1e6)) if args.timestamp else None,
        Column("UID", "%-6d", "uid") if args.print_uid else None,
        *connect_columns(args),
        Column("DPORT", "%-6d ", "dport", head="%-6s"),
        Column("QUERY", "%s", query) if query else None,
    ]


# -d: bcc's note when the lookup came well before the connect
DNS_DELAY_MS = 100


def dns_names(tool):
    """-d: uprobes on libc's getaddrinfo; returns the QUERY column's getter:
    the name last resolved to the event's remote address, as bcc shows it."""
    from ..symbols.libpath import find_library   # only for -d (it imports threading)
    libc = find_library("c")
    if not (libc and tool.attach_uprobe("getaddrinfo_entry", libc, "getaddrinfo") and
            tool.attach_uprobe("getaddrinfo_return", libc, "getaddrinfo", retprobe=True)):
        fail("tcpconnect: -d needs libc's getaddrinfo, and no libc with it was found")

    def query(e):
        if not e.query_ts:
            return "localhost" if daddr(e) in ("127.0.0.1", "::1") else "No DNS Query"
        name = e.query if isinstance(e.query, str) else \
            bytes(e.query).split(b"\0")[0].decode(errors="replace")
        delay_ms = (e.ts_us * 1000 - e.query_ts) / 1e6
        return name + (" (%.3fms)" % delay_ms if delay_ms > DNS_DELAY_MS else "")
    return query


# count mode: a row is (flow key, connects)
COUNT_COLUMNS = [
    Column("LADDR", "%-25s ", lambda kv: saddr(kv[0])),
    Column("RADDR", "%-25s ", lambda kv: daddr(kv[0])),
    Column("RPORT", "%-20s ", lambda kv: kv[0].dport),
    Column("CONNECTS", "%-10d", lambda kv: kv[1], head="%-10s"),
]


# kprobes where the kernel has them (bcc's way), else the tracepoint pair
MECHANISMS = [["tcp_v4_connect_entry", "tcp_v4_connect_return",
               "tcp_v6_connect_entry", "tcp_v6_connect_return"],
              ["connect_state", "connect_exit"]]


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    constants = {"do_count": args.count, "want_dns": args.dns, **pid_constant(args),
                 **container_constants(args)}
    if args.uid is not None:
        constants["targ_uid"] = args.uid
    constants.update(family_constants(args))
    if args.port:
        constants["n_ports"] = len(args.port)
        constants["ports"] = ports_constant(args.port)

    # the maps of the modes not chosen at one entry: less for the kernel to allocate
    unused = ([] if args.count else ["counts"]) + ([] if args.dns else ["dns_names", "lookups"])
    with Tool("tcpconnect", constants, events=not args.count,
              map_sizes={name: 1 for name in unused}) as tool:
        containers = ContainerSets(tool, args.cgroupmap, args.mntnsmap)
        containers.sync()       # count mode: the sets as they are at the start
        choices = MECHANISMS if features.has_kprobes() else MECHANISMS[1:]
        attach_pairs(tool, choices)
        query = dns_names(tool) if args.dns else None
        if args.count:
            wait_for_interrupt("Tracing connect ... Hit Ctrl-C to end", args.json, args.duration)
            counts = sorted(tool.maps["counts"].items(), key=lambda kv: -kv[1])
            write_counts(Table(COUNT_COLUMNS, json=args.json), by_family(counts))
            return 0

        stream_table(tool, Table(columns(args, query), json=args.json), args,
                     "Tracing connect ... Hit Ctrl-C to end", containers)
    return 0


def attach_pairs(tool, choices):
    """Attach the first set of programs that all attach (kprobes, then
    tracepoints); a partly attached set is undone before the next try."""
    first_error = None
    for programs in choices:
        done = len(tool.links)
        try:
            for prog in programs:
                tool.attach(prog)
            return programs
        except (NotSupportedError, AttachError, LoadError) as e:
            first_error = first_error or e
            for link in tool.links[done:]:
                link.close()
            del tool.links[done:], tool.mechanisms[done:]
    raise first_error


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
