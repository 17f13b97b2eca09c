"""sigsnoop: trace standard and real-time signals (libbpf-tools' columns and flags)."""
import argparse
import sys

from ..output.table import Column
from .lib.args import add_duration_and_json, pid, tool_parser
from .lib.runtime import run_tool
from .lib.snoop import set_constants, snoop
from .lib.timestamps import wall_clock

EXAMPLES = """examples:
    sigsnoop             # trace signals system-wide
    sigsnoop -k          # trace signals issued by kill syscall only
    sigsnoop -x          # trace failed signals only
    sigsnoop -p 1216     # only trace PID 1216
    sigsnoop -s 1,9,15   # trace signal 1, 9, 15

TCOMM is the target's comm as the kernel records it; with -k it is read from
/proc when the event is printed (empty if the target has gone).
"""

# The names libbpf-tools prints with -n; 32 and up are the real-time signals.
SIGNAL_NAMES = ["N/A"] + (
    "SIGHUP SIGINT SIGQUIT SIGILL SIGTRAP SIGABRT SIGBUS SIGFPE SIGKILL SIGUSR1 "
    "SIGSEGV SIGUSR2 SIGPIPE SIGALRM SIGTERM SIGSTKFLT SIGCHLD SIGCONT SIGSTOP "
    "SIGTSTP SIGTTIN SIGTTOU SIGURG SIGXCPU SIGXFSZ SIGVTALRM SIGPROF SIGWINCH "
    "SIGIO SIGPWR SIGSYS").split() + [f"SIGNAL-{n}" for n in range(32, 65)]


def signal_list(text):
    """-s 1,9,15: a bit mask with bit (sig - 1) set for each signal."""
    mask = 0
    for part in text.split(","):
        try:
            sig = int(part)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid signal {part!r}") from None
        if not 1 <= sig <= 64:
            raise argparse.ArgumentTypeError(f"signal must be 1..64, not {sig}")
        mask |= 1 << (sig - 1)
    return mask


def parse_args(argv):
    p = tool_parser("sigsnoop", "Trace standard and real-time signals.", EXAMPLES)
    p.add_argument("-x", "--failed", action="store_true", help="Trace failed signals only.")
    p.add_argument("-k", "--kill", action="store_true",
                   help="Trace signals issued by kill syscall only.")
    p.add_argument("-p", "--pid", type=pid, help="Process ID to trace")
    p.add_argument("-s", "--signal", type=signal_list, help="Signals to trace (comma list).")
    p.add_argument("-n", "--name", action="store_true",
                   help="Output signal name instead of signal number.")
    add_duration_and_json(p, "stop after this many seconds (pybcc extension)")
    return p.parse_args(argv)


def proc_comm(tpid):
    try:
        with open(f"/proc/{abs(tpid)}/comm", "rb") as f:
            return f.read().rstrip(b"\n")
    except OSError:
        return b""


def columns(args):
    def sig(e):
        return SIGNAL_NAMES[e.sig] if args.name and 0 <= e.sig < len(SIGNAL_NAMES) else e.sig
    return [
        Column("TIME", "%-8s ", wall_clock),
        Column("PID", "%-7d ", "pid"),
        Column("COMM", "%-16s ", "comm"),
        Column("SIG", "%-12s ", sig),
        Column("TPID", "%-7d ", "tpid"),
        Column("TCOMM", "%-16s ", lambda e: e.tcomm or (proc_comm(e.tpid) if args.kill else b"")),
        Column("RESULT", "%-6d", "ret"),
    ]


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    constants = set_constants(failed_only=args.failed, filtered_pid=args.pid,
                              target_signals=args.signal)
    if args.kill:
        progs = [f"{call}_{end}" for call in ("kill", "tkill", "tgkill")
                 for end in ("entry", "return")]
    else:
        progs = ["sig_generate"]
    return snoop("sigsnoop", args, columns(args), constants, progs)


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
