"""tcpstates: TCP state changes with the time spent in each state (bcc's columns and flags)."""
import sys

from ..output.table import Table
from .lib.args import tool_parser
from .lib.inet import (add_family_args, add_layout_args, add_port_args, daddr, family_constants,
                       ip_column, ip_version, layout_columns, parse_tool_args, port_constants,
                       saddr, stream_table, tcp_state_name)
from .lib.runtime import Tool, fail, run_tool

EXAMPLES = """examples:
    ./tcpstates           # trace all TCP state changes
    ./tcpstates -t        # include timestamp column
    ./tcpstates -T        # include time column (HH:MM:SS)
    ./tcpstates -w        # wider columns (fit IPv6)
    ./tcpstates -stT      # csv output, with times & timestamps
    ./tcpstates -Y        # log events to the systemd journal
    ./tcpstates -L 80     # only trace local port 80
    ./tcpstates -L 80,81  # only trace local ports 80 and 81
    ./tcpstates -D 80     # only trace remote port 80
    ./tcpstates -4        # trace IPv4 family only
    ./tcpstates -6        # trace IPv6 family only

C-PID/C-COMM are the task on CPU at the change: for changes made in softirq
(SYN_SENT -> ESTABLISHED, FIN_WAIT1 -> FIN_WAIT2, ...) that is whoever was
running, often swapper, as with bcc.
"""


def parse_args(argv):
    p = tool_parser("tcpstates", "Trace TCP session state changes and durations", EXAMPLES)
    add_layout_args(p)
    add_port_args(p)
    p.add_argument("-Y", "--journal", action="store_true",
                   help="log session state changes to the systemd journal")
    add_family_args(p)
    return parse_tool_args(p, argv)


# bcc's three layouts (value format, header format)
LAYOUTS = {
    "default": ("%-16x %-5d %-10.10s %s%-15s %-5d %-15s %-5d %-11s -> %-11s %.3f",
                "%-16s %-5s %-10.10s %s%-15s %-5s %-15s %-5s %-11s -> %-11s %s"),
    "wide": ("%-16x %-5d %-16.16s %-2s %-39s %-5s %-39s %-5d %-11s -> %-11s %.3f",
             "%-16s %-5s %-16.16s %-2s %-39s %-5s %-39s %-5s %-11s -> %-11s %s"),
    "csv": ("%x,%d,%s,%s,%s,%s,%s,%d,%s,%s,%.3f", "%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s"),
}


def columns(args):
    return layout_columns(args, LAYOUTS, [
        ("SKADDR", "skaddr", lambda e: "%x" % e.skaddr),
        ("C-PID", "pid", None),
        ("C-COMM", "task", None),
        ip_column(args),
        ("LADDR", saddr, None),
        ("LPORT", "lport", None),
        ("RADDR", daddr, None),
        ("RPORT", "dport", None),
        ("OLDSTATE", lambda e: tcp_state_name(e.oldstate), None),
        ("NEWSTATE", lambda e: tcp_state_name(e.newstate), None),
        ("MS", lambda e: e.span_us / 1000, None),
    ])


def journal_sender():
    """bcc's -Y: one journal entry per change, through python3-systemd."""
    try:
        from systemd import journal
    except ImportError:
        fail("ERROR: Journal logging requires the systemd.journal module")

    def send(e):
        pfx = "IPV4" if ip_version(e) == 4 else "IPV6"
        comm = e.task.decode(errors="replace")
        old, new = tcp_state_name(e.oldstate), tcp_state_name(e.newstate)
        journal.send(
            f"{comm} {saddr(e)} {e.lport} \u2192 {daddr(e)} {e.dport} {old} \u2192 {new}",
            SYSLOG_IDENTIFIER="tcpstates", PRIORITY="5", OBJECT_PID=str(e.pid),
            **{f"OBJECT_{pfx}_SOURCE_ADDRESS": saddr(e), "OBJECT_TCP_SOURCE_PORT": str(e.lport),
               f"OBJECT_{pfx}_DESTINATION_ADDRESS": daddr(e),
               "OBJECT_TCP_DESTINATION_PORT": str(e.dport), "OBJECT_TCP_OLD_STATE": old,
               "OBJECT_TCP_NEW_STATE": new, "OBJECT_TCP_SPAN_TIME": str(e.span_us)})
    return send


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    journal = journal_sender() if args.journal else None
    constants = family_constants(args)
    constants.update(port_constants(args))
    table = Table(columns(args), json=args.json)

    def write(e):
        table.write(e)
        if journal:
            journal(e)

    with Tool("tcpstates", constants, events=True) as tool:
        tool.attach("set_state")
        stream_table(tool, table, args, write=write)
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
