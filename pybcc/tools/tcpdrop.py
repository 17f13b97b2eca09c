"""tcpdrop: TCP packets dropped by the kernel, with the drop reason (bcc's columns and flags)."""
import os
import re
import socket
import sys

from ..errors import BPFError
from ..kernel import tracefs
from ..output.table import Column, Table, write_json
from ..symbols.kallsyms import ksym
from .lib.args import pid, tool_parser
from .lib.inet import (add_family_args, family_constants, format_addr, parse_tool_args,
                       stream_table, tcp_state_name)
from .lib.runtime import Tool, fail, run_tool
from .lib.stacks import TRACING_FRAMES
from .lib.timestamps import wall_clock

EXAMPLES = """examples:
    ./tcpdrop           # trace kernel TCP drops
    ./tcpdrop -S        # with the kernel stack of each drop
    ./tcpdrop -4        # trace IPv4 family only
    ./tcpdrop -6        # trace IPv6 family only

pybcc reads skb:kfree_skb and its drop reason (Linux 5.17+); bcc prints the
kernel stack of every drop, pybcc with -S.
"""

# bcc's tcp.flags2str order
TCP_FLAGS = ("FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR")


def parse_args(argv):
    p = tool_parser("tcpdrop", "Trace TCP drops by the kernel", EXAMPLES)
    add_family_args(p)
    p.add_argument("-S", "--stack", action="store_true",
                   help="print the kernel stack of each drop")
    p.add_argument("--netns-id", type=int, default=0, help="the netns id to filter by")
    p.add_argument("--pid-netns", type=pid, default=0, help="the pid whose netns to filter by")
    return parse_tool_args(p, argv)


def drop_reasons():
    """Reason code → name, as the running kernel prints them in kfree_skb's format."""
    fmt = tracefs.tracepoint_format("skb", "kfree_skb").print_fmt
    return {int(code): name for code, name in re.findall(r'\{\s*(\d+),\s*"(\w+)"\s*\}', fmt)}


def flags_text(flags):
    return "|".join(name for bit, name in enumerate(TCP_FLAGS) if flags & (1 << bit))


def endpoint(addr_field, port_field):
    def get(e):
        af = socket.AF_INET if e.ip == 4 else socket.AF_INET6
        return "%s:%d" % (format_addr(af, getattr(e, addr_field)), getattr(e, port_field))
    return get


def columns(reasons):
    return [
        Column("TIME", "%-8s ", wall_clock),
        Column("PID", "%-7d ", "pid"),
        Column("IP", "%-2d ", "ip"),
        Column("SADDR:SPORT", "%-20s > ", endpoint("saddr", "sport"), head="%-20s > "),
        Column("DADDR:DPORT", "%-20s ", endpoint("daddr", "dport")),
        Column("STATE (FLAGS)", "%-20s ",
               lambda e: "%s (%s)" % (tcp_state_name(e.state), flags_text(e.tcpflags)),
               key="state_flags",
               json=lambda e: {"state": tcp_state_name(e.state), "flags": flags_text(e.tcpflags)}),
        Column("REASON (CODE)", "%s",
               lambda e: "%s (%d)" % (reasons.get(e.reason, "UNKNOWN"), e.reason), key="reason",
               json=lambda e: {"reason": reasons.get(e.reason, "UNKNOWN"), "code": e.reason}),
    ]


def kernel_stack(stacks, stack_id):
    """bcc's frames (innermost first, with offsets), without the tracing machinery's own."""
    if stack_id < 0:
        return ["[Missed Kernel Stack]"]
    names = [ksym(a, show_offset=True) for a in stacks.walk(stack_id)]
    while names and names[0].startswith(TRACING_FRAMES):
        names.pop(0)
    return names


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.pid_netns and args.netns_id:
        fail("ERROR: --pid_netns and --netns-id not allowed together")
    netns = os.stat(f"/proc/{args.pid_netns}/ns/net").st_ino if args.pid_netns else args.netns_id
    try:
        reasons = drop_reasons()
    except BPFError:
        fail("tcpdrop: the skb:kfree_skb tracepoint is missing: this kernel cannot show TCP drops")
    if "NOT_SPECIFIED" not in reasons.values():
        fail("tcpdrop: skb:kfree_skb has no drop reason before Linux 5.17 "
             "(bcc uses a kprobe on tcp_drop there, which pybcc does not)")
    constants = family_constants(args)
    constants.update(targ_netns=netns, want_stack=args.stack)
    table = Table(columns(reasons), json=args.json)

    with Tool("tcpdrop", constants, events=True) as tool:
        tool.attach("kfree_skb")
        stacks = tool.maps["stack_traces"]

        def write(e):
            frames = kernel_stack(stacks, e.stack_id) if args.stack else []
            if args.json:
                row = table.as_dict(e)
                if args.stack:
                    row["stack"] = frames
                write_json(row)
                return
            table.write(e)
            if args.stack:
                table.out.write("".join("\t%s\n" % f for f in frames) + "\n")

        stream_table(tool, table, args, write=write)
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
