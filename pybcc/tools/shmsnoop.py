"""shmsnoop: trace shm*() syscalls (bcc's columns)."""
import sys

from ..output.table import Column, Table
from .lib.args import add_json, pid, pid_tid_constants, positive_float, tool_parser
from .lib.flagnames import flag_names
from .lib.runtime import Tool, run_tool
from .lib.snoop import attach_all, print_events
from .lib.timestamps import SinceFirst

EXAMPLES = """examples:
    ./shmsnoop           # trace all shm*() syscalls
    ./shmsnoop -T        # include timestamps
    ./shmsnoop -p 181    # only trace PID 181
    ./shmsnoop -t 123    # only trace TID 123
    ./shmsnoop -d 10     # trace for 10 seconds only
    ./shmsnoop -n main   # only print process names containing "main"
    ./shmsnoop --json    # NDJSON, one object per call (pybcc)

Source: the syscalls:sys_enter/exit_shm* tracepoints (bcc: kprobes and
kretprobes on the syscall functions); the same calls and arguments.
"""

SYS_NAMES = ("SHMGET", "SHMAT", "SHMDT", "SHMCTL")
SHMGET_FLAGS = [("IPC_CREAT", 0o1000), ("IPC_EXCL", 0o2000), ("SHM_HUGETLB", 0o4000),
                ("SHM_HUGE_2MB", 21 << 26), ("SHM_HUGE_1GB", 30 << 26),
                ("SHM_NORESERVE", 0o10000), ("SHM_EXEC", 0o100000)]
SHMAT_FLAGS = [("SHM_RDONLY", 0o10000), ("SHM_RND", 0o20000), ("SHM_REMAP", 0o40000),
               ("SHM_EXEC", 0o100000)]
SHMCTL_CMDS = {0: "IPC_RMID", 1: "IPC_SET", 2: "IPC_STAT", 3: "IPC_INFO", 11: "SHM_LOCK",
               12: "SHM_UNLOCK", 13: "SHM_STAT", 14: "SHM_INFO", 15: "SHM_STAT_ANY"}


def flags_text(val, table):
    """'0x3b6 (IPC_CREAT|0666)': hex, then the names of the flags that share
    bits with it (bcc's test) and what is left (the mode) in octal."""
    if not val:
        return "0x0"
    return "0x%x (%s)" % (val, flag_names(val, table, rest="0%o"))


def args_text(e):
    if e.sys == 0:
        return "key: 0x%x, size: %d, shmflg: %s" % (e.key, e.size, flags_text(e.shmflg, SHMGET_FLAGS))
    if e.sys == 1:
        return "shmid: 0x%x, shmaddr: 0x%x, shmflg: %s" % (
            e.shmid, e.shmaddr, flags_text(e.shmflg, SHMAT_FLAGS))
    if e.sys == 2:
        return "shmaddr: 0x%x" % e.shmaddr
    return "shmid: 0x%x, cmd: %d (%s), buf: 0x%x" % (
        e.shmid, e.cmd, SHMCTL_CMDS.get(e.cmd, "0x%x" % e.cmd), e.buf)


def parse_args(argv):
    p = tool_parser("shmsnoop", "Trace shm*() syscalls", EXAMPLES)
    p.add_argument("-T", "--timestamp", action="store_true", help="include timestamp on output")
    p.add_argument("-p", "--pid", type=pid, help="trace this PID only")
    p.add_argument("-t", "--tid", type=pid, help="trace this TID only")
    p.add_argument("-d", "--duration", type=positive_float,
                   help="total duration of trace in seconds")
    p.add_argument("-n", "--name", help="only print process names containing this name")
    add_json(p)
    return p.parse_args(argv)


def columns(args):
    return [
        Column("TIME(s)", "%-14.9f", SinceFirst("ts_us", 1e6)) if args.timestamp else None,
        Column("TID" if args.tid else "PID", "%-6d ",
               (lambda e: e.id & 0xFFFFFFFF) if args.tid else (lambda e: e.id >> 32)),
        Column("COMM", "%-16s ", lambda e: e.comm),
        Column("SYS", "%6s ", lambda e: SYS_NAMES[e.sys] if e.sys < 4 else "N/A"),
        Column("RET", "%16x ", lambda e: e.ret),
        Column("ARGs", "%s", args_text, key="args"),
    ]


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    constants = pid_tid_constants(args)
    name = args.name.encode() if args.name else None
    table = Table(columns(args), json=args.json)

    with Tool("shmsnoop", constants, events=True) as tool:
        attach_all(tool, [f"{side}_{sc}" for sc in ("shmget", "shmat", "shmdt", "shmctl")
                          for side in ("enter", "exit")])
        print_events(tool, table, args.duration, comm=name)
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
