"""sofdsnoop: trace file descriptors passed over sockets (bcc's columns and flags)."""
import os
import sys

from ..output.table import Column, Table
from .lib.args import pid, positive_float, positive_int, tool_parser
from .lib.inet import parse_tool_args, pid_constant, stream_table
from .lib.runtime import Tool, run_tool
from .lib.timestamps import SinceFirst

EXAMPLES = """examples:
    ./sofdsnoop           # trace passed file descriptors
    ./sofdsnoop -T        # include timestamps
    ./sofdsnoop -p 181    # only trace PID 181
    ./sofdsnoop -t 123    # only trace TID 123
    ./sofdsnoop -d 10     # trace for 10 seconds only
    ./sofdsnoop -n main   # only print process names containing "main"

pybcc reads the first control message at the sendmsg() syscall's entry and
recvmsg()'s exit (bcc: kprobes on __scm_send and scm_detach_fds): RECV shows
the fds as installed in the receiver; sendmmsg/recvmmsg are not traced.
"""

ACTIONS = {0: "SEND", 1: "RECV"}


def parse_args(argv):
    p = tool_parser("sofdsnoop", "Trace file descriptors passed via socket", EXAMPLES)
    p.add_argument("-T", "--timestamp", action="store_true", help="include timestamp on output")
    p.add_argument("-p", "--pid", type=pid, help="trace this PID only")
    p.add_argument("-t", "--tid", type=positive_int, help="trace this TID only")
    p.add_argument("-n", "--name", help="only print process names containing this name")
    p.add_argument("-d", "--duration", type=positive_float,
                   help="total duration of trace in seconds")
    return parse_tool_args(p, argv, duration=False)


def file_name(tid, fd):
    """What the fd is, as bcc shows it: /proc/TID/fd/FD's link, else N/A."""
    try:
        return os.readlink(f"/proc/{tid}/fd/{fd}")
    except OSError:
        return "N/A"


class PassedFd:
    """One line: an event and one of the fds it carries."""
    __slots__ = ("e", "fd", "tid")

    def __init__(self, e, fd):
        self.e, self.fd, self.tid = e, fd, e.id & 0xffffffff

    @property
    def ts_us(self):
        return self.e.ts_us


def columns(args):
    return [
        Column("TIME(s)", "%-14.9f", SinceFirst("ts_us", 1e6)) if args.timestamp else None,
        Column("ACTION", "%-6s ", lambda r: ACTIONS.get(r.e.action, "?")),
        Column("TID", "%-6d ", "tid"),
        Column("COMM", "%-16s ", lambda r: r.e.task),
        Column("SOCKET", "%-25s ", lambda r: "%d:%s" % (r.e.sock_fd, file_name(r.tid, r.e.sock_fd))),
        Column("FD", "%-5d ", "fd"),
        # the name means something only in the sender, whose fd it is
        Column("NAME", "%s", lambda r: file_name(r.tid, r.fd) if r.e.action == 0 else ""),
    ]


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    constants = {**pid_constant(args), "targ_tid": args.tid or 0}
    name = args.name.encode() if args.name else None
    table = Table(columns(args), json=args.json)

    def write(e):
        if name and name not in e.task:
            return
        for fd in e.fds[:min(e.fd_cnt, len(e.fds))]:
            table.write(PassedFd(e, fd))

    with Tool("sofdsnoop", constants, events=True) as tool:
        tool.attach("sendmsg_enter")
        tool.attach("recvmsg_enter")
        tool.attach("recvmsg_exit")
        stream_table(tool, table, args, write=write)
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
