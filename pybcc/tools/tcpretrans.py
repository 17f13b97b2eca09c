"""tcpretrans: trace TCP retransmits (bcc's columns and flags)."""
import sys

from ..errors import AttachError, LoadError, NotSupportedError
from ..output.table import Column, Table
from .lib.args import tool_parser
from .lib.inet import (add_family_args, by_family, daddr, family_constants, ip_version,
                       parse_tool_args, saddr, stream_table, tcp_state_name,
                       wait_for_interrupt, write_counts)
from .lib.runtime import Tool, run_tool
from .lib.timestamps import wall_clock

EXAMPLES = """examples:
    ./tcpretrans           # trace TCP retransmits
    ./tcpretrans -l        # include TLP attempts
    ./tcpretrans -4        # trace IPv4 family only
    ./tcpretrans -6        # trace IPv6 family only
"""

TYPES = {1: "R", 2: "L"}


def parse_args(argv):
    p = tool_parser("tcpretrans", "Trace TCP retransmits", EXAMPLES)
    p.add_argument("-s", "--sequence", action="store_true", help="display TCP sequence numbers")
    p.add_argument("-l", "--lossprobe", action="store_true",
                   help="include tail loss probe attempts")
    p.add_argument("-c", "--count", action="store_true",
                   help="count occurred retransmits per flow")
    add_family_args(p)
    return parse_tool_args(p, argv)


def local(e):
    return "%s:%d" % (saddr(e), e.lport)


def remote(e):
    return "%s:%d" % (daddr(e), e.dport)


def columns(args):
    state = lambda e: tcp_state_name(e.state)   # noqa: E731
    return [
        Column("TIME", "%-8s ", wall_clock),
        Column("PID", "%-7d ", "pid"),
        Column("IP", "%-2d ", ip_version),
        Column("LADDR:LPORT", "%-20s ", local),
        Column("T", "%1s> ", lambda e: TYPES.get(e.type, "?"), key="type"),
        Column("RADDR:RPORT", "%-20s", remote),
        Column("STATE", " %-12s " if args.sequence else " %s", state,
               head=" %-12s " if args.sequence else " %-4s"),
        Column("SEQ", "%s", "seq", head="%-10s") if args.sequence else None,
    ]


# count mode: a row is (flow key, retransmits); bcc's header and rows do not align
COUNT_COLUMNS = [
    Column("LADDR:LPORT", "%-20s <-> ", lambda kv: "[%s]#%d" % (saddr(kv[0]), kv[0].lport),
           head="%-25s "),
    Column("RADDR:RPORT", "%-20s ", lambda kv: "[%s]#%d" % (daddr(kv[0]), kv[0].dport),
           head="%-25s "),
    Column("RETRANSMITS", "%10d", lambda kv: kv[1], head="%-10s"),
]


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    constants = {"do_count": args.count}
    constants.update(family_constants(args))

    with Tool("tcpretrans", constants, events=not args.count) as tool:
        tool.attach_first("retransmit_tp", "retransmit_kprobe")
        if args.lossprobe:
            try:
                tool.attach_first("tlp_kprobe", "tlp_fentry")
            except (NotSupportedError, AttachError, LoadError) as e:
                raise NotSupportedError(
                    "tcpretrans -l: tail loss probes have no tracepoint; they need a kprobe or "
                    f"fentry on tcp_send_loss_probe, and this kernel allows neither ({e}). "
                    "Run without -l to see retransmits.") from None
        if args.count:
            wait_for_interrupt("Tracing retransmits ... Hit Ctrl-C to end", args.json,
                               args.duration)
            counts = sorted(tool.maps["counts"].items(), key=lambda kv: kv[1])
            write_counts(Table(COUNT_COLUMNS, json=args.json), by_family(counts))
            return 0

        stream_table(tool, Table(columns(args), json=args.json), args,
                     "Tracing retransmits ... Hit Ctrl-C to end")
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
