"""killsnoop: trace signals issued by the kill() syscall (bcc's columns and flags)."""
import argparse
import os
import signal
import sys

from ..output.table import Column, Table
from .lib.args import add_duration, add_json, int_between, pid, tool_parser
from .lib.runtime import TOOLS_DIR, Tool, stream_events
from .lib.timestamps import wall_clock

EXAMPLES = """examples:
    ./killsnoop           # trace all kill() signals
    ./killsnoop -x        # only show failed kills
    ./killsnoop -p 181    # only trace PID 181
    ./killsnoop -T 189    # only trace target PID 189
    ./killsnoop -s 9      # only trace signal 9
"""


# -s 0 is any signal, as in bcc; -T is kill(2)'s pid (negative: a process group)
signal_number = int_between(0, int(signal.SIGRTMAX), "signal number")
target_pid = int_between(-2**31, 2**31 - 1, "pid")


def parse_args(argv):
    p = tool_parser("killsnoop", "Trace signals issued by the kill() syscall", EXAMPLES)
    p.add_argument("-x", "--failed", action="store_true", help="only show failed kill syscalls")
    p.add_argument("-p", "--pid", type=pid,
                   help="trace this PID only which is the sender of signal")
    p.add_argument("-T", "--tpid", type=target_pid,
                   help="trace this target PID only which is the receiver of signal")
    p.add_argument("-s", "--signal", type=signal_number, help="trace this signal only")
    p.add_argument("--ebpf", action="store_true", help=argparse.SUPPRESS)
    add_duration(p, "stop after this many seconds (pybcc extension)")
    add_json(p)
    return p.parse_args(argv)


def pid_width():
    """Wide enough for the largest pid, as bcc sizes its PID columns."""
    try:
        with open("/proc/sys/kernel/pid_max") as f:
            return len(f.read().strip()) + 1
    except OSError:
        return 6


def columns():
    w = pid_width()
    return [
        Column("TIME", "%-9s ", wall_clock),
        Column("PID", f"%-{w}d ", "pid"),
        Column("COMM", "%-16s ", "comm"),
        Column("SIG", "%-4d ", "sig"),
        Column("TPID", f"%-{w}d ", "tpid"),
        Column("RESULT", "%d", "ret"),
    ]


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.ebpf:
        with open(os.path.join(TOOLS_DIR, "killsnoop.bpf.c")) as f:
            print(f.read())
        return 0
    constants = {"failed_only": args.failed}
    for name, value in (("targ_pid", args.pid), ("targ_tpid", args.tpid),
                        ("targ_sig", args.signal)):
        if value:
            constants[name] = value
    table = Table(columns(), json=args.json)

    with Tool("killsnoop", constants, events=True) as tool:
        tool.attach("kill_enter")
        tool.attach("kill_exit")
        decode = tool.record("event").decode
        tool.open_events(lambda data: table.write(decode(data)))
        table.print_header()
        stream_events(tool, args.duration)
    return 0


if __name__ == "__main__":
    from .lib.runtime import run_tool
    sys.exit(run_tool(main, sys.argv[1:]))
