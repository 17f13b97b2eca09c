"""exitsnoop: trace process termination (exit, fatal signal), bcc's columns and flags."""
import argparse
import ctypes
import os
import signal
import sys
from datetime import datetime, timezone
from time import strftime

from .lib.runtime import TOOLS_DIR, Tool, fail, stream_events

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
    p = argparse.ArgumentParser(description="Trace all process termination (exit, fatal signal)",
                                epilog=EXAMPLES,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-t", "--timestamp", action="store_true",
                   help="include timestamp (local time default)")
    p.add_argument("--utc", action="store_true", help="include timestamp in UTC (-t implied)")
    p.add_argument("-p", "--pid", type=int, help="trace this PID only")
    p.add_argument("--label", help="label each line")
    p.add_argument("-x", "--failed", action="store_true", help="trace only fails, exclude exit(0)")
    p.add_argument("--per-thread", action="store_true", help="trace per thread termination")
    p.add_argument("--ebpf", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--timespec", action="store_true", help=argparse.SUPPRESS)
    return p.parse_args(argv)


class Event(ctypes.Structure):
    _fields_ = [("start_time", ctypes.c_uint64), ("exit_time", ctypes.c_uint64),
                ("pid", ctypes.c_uint32), ("tid", ctypes.c_uint32), ("ppid", ctypes.c_uint32),
                ("exit_code", ctypes.c_int32), ("sig_info", ctypes.c_uint32),
                ("comm", ctypes.c_char * 16)]


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


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.timespec:
        fail("--timespec is for RHEL 7 kernels, whose task start_time pybcc does not read; "
             "no kernel pybcc supports needs it")
    if args.ebpf:
        with open(os.path.join(TOOLS_DIR, "exitsnoop.bpf.c")) as f:
            print(f.read())
        return 0
    if args.utc:
        args.timestamp = True
    constants = {"per_thread": args.per_thread, "failed_only": args.failed}
    if args.pid is not None:
        constants["targ_pid"] = args.pid
    seen_target = False

    with Tool("exitsnoop", constants, events=True) as tool:
        tool.attach("sched_process_exit")

        def on_event(data):
            nonlocal seen_target
            e = Event.from_buffer_copy(data[:ctypes.sizeof(Event)])
            out = ""
            if args.timestamp:
                now = datetime.now(timezone.utc) if args.utc else datetime.now()
                out += "%-13s" % now.strftime("%H:%M:%S.%f")[:-3]
            if args.label is not None:
                out += "%-6s" % (args.label or "exit")
            age = (e.exit_time - e.start_time) / 1e9
            out += "%-16s %-7d %-7d %-7d %-7.2f " % (e.comm.decode(errors="replace"), e.pid,
                                                     e.ppid, e.tid, age)
            print(out + exit_text(e.exit_code, e.sig_info), flush=True)
            seen_target = True

        tool.open_events(on_event)
        header = ""
        if args.timestamp:
            header += "%-13s" % ("TIME-" + ("UTC" if args.utc else strftime("%Z")))
        if args.label is not None:
            header += "%-6s" % "LABEL"
        print(header + "%-16s %-7s %-7s %-7s %-7s %-10s" %
              ("PCOMM", "PID", "PPID", "TID", "AGE(s)", "EXIT_CODE"), flush=True)
        # With -p, bcc's exitsnoop ends once that process has exited.
        stream_events(tool, should_stop=lambda: args.pid is not None and seen_target)
    return 0


if __name__ == "__main__":
    from .lib.runtime import run_tool
    sys.exit(run_tool(main, sys.argv[1:]))
