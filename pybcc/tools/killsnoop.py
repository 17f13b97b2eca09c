"""killsnoop: trace signals issued by the kill() syscall (bcc's columns and flags)."""
import argparse
import ctypes
import os
import sys
from time import strftime

from .lib.runtime import TOOLS_DIR, Tool, stream_events

EXAMPLES = """examples:
    ./killsnoop           # trace all kill() signals
    ./killsnoop -x        # only show failed kills
    ./killsnoop -p 181    # only trace PID 181
    ./killsnoop -T 189    # only trace target PID 189
    ./killsnoop -s 9      # only trace signal 9
"""


def parse_args(argv):
    p = argparse.ArgumentParser(description="Trace signals issued by the kill() syscall",
                                epilog=EXAMPLES,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-x", "--failed", action="store_true", help="only show failed kill syscalls")
    p.add_argument("-p", "--pid", type=int,
                   help="trace this PID only which is the sender of signal")
    p.add_argument("-T", "--tpid", type=int,
                   help="trace this target PID only which is the receiver of signal")
    p.add_argument("-s", "--signal", type=int, help="trace this signal only")
    p.add_argument("--ebpf", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--duration", type=float, help="stop after this many seconds (pybcc extension)")
    return p.parse_args(argv)


class Event(ctypes.Structure):
    _fields_ = [("pid", ctypes.c_uint32), ("tpid", ctypes.c_int32), ("sig", ctypes.c_int32),
                ("ret", ctypes.c_int32), ("comm", ctypes.c_char * 16)]


def pid_width():
    """Wide enough for the largest pid, as bcc sizes its PID columns."""
    try:
        with open("/proc/sys/kernel/pid_max") as f:
            return len(f.read().strip()) + 1
    except OSError:
        return 6


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
    w = pid_width()

    with Tool("killsnoop", constants, events=True) as tool:
        tool.attach("kill_enter")
        tool.attach("kill_exit")

        def on_event(data):
            e = Event.from_buffer_copy(data[:ctypes.sizeof(Event)])
            print("%-9s %-*d %-16s %-4d %-*d %d" % (strftime("%H:%M:%S"), w, e.pid,
                                                   e.comm.decode(errors="replace"), e.sig,
                                                   w, e.tpid, e.ret), flush=True)

        tool.open_events(on_event)
        print("%-9s %-*s %-16s %-4s %-*s %s" % ("TIME", w, "PID", "COMM", "SIG", w, "TPID",
                                               "RESULT"), flush=True)
        stream_events(tool, args.duration)
    return 0


if __name__ == "__main__":
    from .lib.runtime import run_tool
    sys.exit(run_tool(main, sys.argv[1:]))
