"""statsnoop: trace stat() syscalls (bcc's columns and flags).

bcc's statsnoop probes stat, statx, statfs, newstat and newlstat; glibc's
stat() has called newfstatat since 2.33, so newfstatat is traced too.
"""
import sys

from ..output.table import Column
from .lib.args import add_duration_and_json, add_ebpf, pid, tool_parser
from .lib.runtime import run_tool
from .lib.snoop import set_constants, snoop
from .lib.timestamps import SinceFirst

EXAMPLES = """examples:
    ./statsnoop           # trace all stat() syscalls
    ./statsnoop -t        # include timestamps
    ./statsnoop -x        # only show failed stats
    ./statsnoop -p 181    # only trace PID 181
"""

# syscall → enter program (by where its path argument is)
SYSCALLS = (("statfs", "enter_path_arg0"), ("newstat", "enter_path_arg0"),
            ("newlstat", "enter_path_arg0"), ("stat", "enter_path_arg0"),
            ("newfstatat", "enter_path_arg1"), ("statx", "enter_path_arg1"))


def parse_args(argv):
    p = tool_parser("statsnoop", "Trace stat() syscalls", EXAMPLES)
    p.add_argument("-t", "--timestamp", action="store_true", help="include timestamp on output")
    p.add_argument("-x", "--failed", action="store_true", help="only show failed stats")
    p.add_argument("-p", "--pid", type=pid, help="trace this PID only")
    add_ebpf(p, "statsnoop")
    add_duration_and_json(p, "stop after this many seconds (pybcc extension)")
    return p.parse_args(argv)


def columns(args):
    return [
        Column("TIME(s)", "%-14.9f", SinceFirst("ts_ns", 1e9)) if args.timestamp else None,
        Column("PID", "%-7d ", "pid"),
        Column("COMM", "%-16s ", "comm"),
        Column("FD", "%4d ", "fd"),
        Column("ERR", "%3d ", "err"),
        Column("PATH", "%s", "fname"),
    ]


def programs():
    """Enter and exit of each stat syscall; those this architecture lacks (stat
    on x86_64) are optional, newfstatat and statx are not."""
    progs, optional = [], []
    for sc, enter in SYSCALLS:
        pair = [(enter, f"syscalls/sys_enter_{sc}"), ("stat_exit", f"syscalls/sys_exit_{sc}")]
        progs += pair
        if sc not in ("newfstatat", "statx"):
            optional += pair
    return progs, optional


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    constants = set_constants(failed_only=args.failed, targ_pid=args.pid)
    progs, optional = programs()
    # lines as bytes (bcc's printb): stat() is among the commonest syscalls
    return snoop("statsnoop", args, columns(args), constants, progs, optional, as_bytes=True)


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
