"""solisten: trace listen() on TCP sockets (bcc's columns and flags)."""
import socket
import sys

from ..output.table import Column
from .lib.args import pid, tool_parser
from .lib.inet import netns_inode, parse_tool_args, pid_constant, saddr
from .lib.runtime import run_tool
from .lib.snoop import snoop

EXAMPLES = """examples:
    ./solisten.py              # Stream socket listen
    ./solisten.py -p 1234      # Stream socket listen for specified PID only
    ./solisten.py --netns 4242 # " for the specified network namespace ID only
    ./solisten.py --show-netns # Show network ns ID (useful for containers)

pybcc traces the listen() syscall (bcc: inet_listen), so listens through
io_uring are not seen and failed listen() calls are not shown. NETNS is the
socket's network namespace (bcc prints 0 there, and its --netns matches only 0).
"""


def parse_args(argv):
    p = tool_parser("solisten", "Stream sockets listen", EXAMPLES)
    p.add_argument("--show-netns", action="store_true", help="show network namespace")
    p.add_argument("-p", "--pid", type=pid, help="trace this PID only")
    p.add_argument("-n", "--netns", default=0, type=netns_inode,
                   help="trace this Network Namespace only")
    return parse_tool_args(p, argv)


def protocol(e):
    return "TCPv4" if e.af == socket.AF_INET else "TCPv6"


def columns(args):
    return [
        Column("PID", "%-7d ", "pid"),
        Column("COMM", "%-12.12s ", "task", head="%-12s "),
        Column("NETNS", "%-12d ", "netns") if args.show_netns else None,
        Column("PROTO", "%-6s ", protocol),
        Column("BACKLOG", "%-8d ", "backlog"),
        Column("PORT", "%-5d ", "lport", key="port"),
        Column("ADDR", "%-39s", saddr, key="addr"),
    ]


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    constants = {**pid_constant(args), "targ_netns": args.netns}
    return snoop("solisten", args, columns(args), constants,
                 programs=["listen_enter", "listen_exit"])


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
