"""killsnoop: trace signals issued by the kill() syscall (bcc's columns and flags).

It runs sigsnoop's kill(2) programs (sigsnoop -k traces the same calls)."""
import signal
import sys

from ..output.table import Column
from .lib.args import add_duration_and_json, add_ebpf, int_between, pid, tool_parser
from .lib.procutil import pid_width
from .lib.runtime import run_tool
from .lib.snoop import set_constants, snoop
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
    add_ebpf(p, "sigsnoop")
    add_duration_and_json(p, "stop after this many seconds (pybcc extension)")
    return p.parse_args(argv)


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
    signals = 1 << (args.signal - 1) if args.signal else 0    # sigsnoop's -s bit mask
    constants = set_constants(failed_only=args.failed, filtered_pid=args.pid,
                              target_pid=args.tpid, target_signals=signals)
    return snoop("sigsnoop", args, columns(), constants, programs=("kill_entry", "kill_return"))


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
