"""exitsnoop: trace process termination (exit, fatal signal), bcc's columns and flags."""
import argparse
import os
import signal
import sys
from datetime import datetime, timezone
from time import strftime

from ..output.table import Column
from .lib.args import add_duration_and_json, add_ebpf, pid, tool_parser
from .lib.runtime import fail, run_tool
from .lib.snoop import snoop

EXAMPLES = """examples:
    exitsnoop                # trace all process termination
    exitsnoop -x             # trace only fails, exclude exit(0)
    exitsnoop -t             # include timestamps (local time)
    exitsnoop --utc          # include timestamps (UTC)
    exitsnoop -p 181         # only trace PID 181
    exitsnoop --label=exit   # label each output line with 'exit'
    exitsnoop --per-thread   # trace per thread termination
"""


def parse_args(argv):
    p = tool_parser("exitsnoop", "Trace all process termination (exit, fatal signal)",
                    EXAMPLES)
    p.add_argument("-t", "--timestamp", action="store_true",
                   help="include timestamp (local time default)")
    p.add_argument("--utc", action="store_true", help="include timestamp in UTC (-t implied)")
    p.add_argument("-p", "--pid", type=pid, help="trace this PID only")
    p.add_argument("--label", help="label each line")
    p.add_argument("-x", "--failed", action="store_true", help="trace only fails, exclude exit(0)")
    p.add_argument("--per-thread", action="store_true", help="trace per thread termination")
    add_ebpf(p, "exitsnoop")
    p.add_argument("--timespec", action="store_true", help=argparse.SUPPRESS)
    add_duration_and_json(p, "stop after this many seconds (pybcc extension)")
    return p.parse_args(argv)


def signame(sig):
    try:
        return signal.Signals(sig).name[3:]
    except ValueError:
        return "unknown"


def exit_text(exit_code, sig_info):
    """The EXIT_CODE column: "0", "code N", or "signal N (NAME)[, core dumped ]"."""
    if sig_info == 0:
        return "0" if exit_code == 0 else "code %d" % exit_code
    out = ""
    sig = sig_info & 0x7F
    if sig:
        out += "signal %d (%s)" % (sig, signame(sig))
    if sig_info & 0x80:
        out += ", core dumped "
    return out


def exit_json(e):
    """EXIT_CODE for machines: the code, the signal (or null), core dumped."""
    return {"code": e.exit_code, "signal": (e.sig_info & 0x7F) or None,
            "core_dumped": bool(e.sig_info & 0x80)}


def columns(args):
    def now(e):
        t = datetime.now(timezone.utc) if args.utc else datetime.now()
        return t.strftime("%H:%M:%S.%f")[:-3]
    return [
        Column("TIME-" + ("UTC" if args.utc else strftime("%Z")), "%-13s", now, key="time")
        if args.timestamp else None,
        Column("LABEL", "%-6s", lambda e: args.label or "exit")
        if args.label is not None else None,
        Column("PCOMM", "%-16s ", "comm"),
        Column("PID", "%-7d ", "pid"),
        Column("PPID", "%-7d ", "ppid"),
        Column("TID", "%-7d ", "tid"),
        Column("AGE(s)", "%-7.2f ", lambda e: (e.exit_time - e.start_time) / 1e9, key="age_s"),
        Column("EXIT_CODE", "%s", lambda e: exit_text(e.exit_code, e.sig_info), head="%-10s",
               json=exit_json),
    ]


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.timespec:
        fail("--timespec is for RHEL 7 kernels, whose task start_time pybcc does not read; "
             "no kernel pybcc supports needs it")
    if args.utc:
        args.timestamp = True
    constants = {"per_thread": args.per_thread, "failed_only": args.failed}
    if args.pid is not None:
        constants["targ_pid"] = args.pid
    # With -p, bcc's exitsnoop ends once that process has exited: once it is
    # reaped, its exit event is in the buffer, and the last poll prints it.
    return snoop("exitsnoop", args, columns(args), constants, programs=("sched_process_exit",),
                 should_stop=lambda: args.pid is not None
                 and not os.path.exists(f"/proc/{args.pid}"))


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
