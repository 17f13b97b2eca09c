"""statsnoop: trace stat() syscalls (bcc's columns and flags).

bcc's statsnoop probes stat, statx, statfs, newstat and newlstat; glibc's
stat() has called newfstatat since 2.33, so newfstatat is traced too.
"""
import argparse
import ctypes
import os
import sys

from ..errors import BPFError
from .lib.runtime import TOOLS_DIR, Tool, stream_events

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
    p = argparse.ArgumentParser(description="Trace stat() syscalls", epilog=EXAMPLES,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-t", "--timestamp", action="store_true", help="include timestamp on output")
    p.add_argument("-x", "--failed", action="store_true", help="only show failed stats")
    p.add_argument("-p", "--pid", type=int, help="trace this PID only")
    p.add_argument("--ebpf", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--duration", type=float, help="stop after this many seconds (pybcc extension)")
    return p.parse_args(argv)


class Event(ctypes.Structure):
    _fields_ = [("ts_ns", ctypes.c_uint64), ("pid", ctypes.c_uint32), ("ret", ctypes.c_int32),
                ("comm", ctypes.c_char * 16), ("fname", ctypes.c_char * 256)]


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.ebpf:
        with open(os.path.join(TOOLS_DIR, "statsnoop.bpf.c")) as f:
            print(f.read())
        return 0
    constants = {"failed_only": args.failed}
    if args.pid:
        constants["targ_pid"] = args.pid
    start_ts = 0

    with Tool("statsnoop", constants, events=True) as tool:
        attached = 0
        for sc, enter in SYSCALLS:
            # One program serves several tracepoints; a syscall this
            # architecture lacks (stat on x86_64) is skipped.
            try:
                tool.attach(enter, f"syscalls/sys_enter_{sc}")
                tool.attach("stat_exit", f"syscalls/sys_exit_{sc}")
                attached += 1
            except BPFError:
                if sc in ("newfstatat", "statx"):
                    raise

        def on_event(data):
            nonlocal start_ts
            e = Event.from_buffer_copy(data[:ctypes.sizeof(Event)])
            fd, err = (e.ret, 0) if e.ret >= 0 else (-1, -e.ret)
            if not start_ts:
                start_ts = e.ts_ns
            out = ""
            if args.timestamp:
                out += "%-14.9f" % ((e.ts_ns - start_ts) / 1e9)
            print(out + "%-7d %-16s %4d %3d %s" % (e.pid, e.comm.decode(errors="replace"), fd,
                                                   err, e.fname.decode(errors="replace")),
                  flush=True)

        tool.open_events(on_event)
        header = "%-14s" % "TIME(s)" if args.timestamp else ""
        print(header + "%-7s %-16s %4s %3s %s" % ("PID", "COMM", "FD", "ERR", "PATH"), flush=True)
        stream_events(tool, args.duration)
    return 0


if __name__ == "__main__":
    from .lib.runtime import run_tool
    sys.exit(run_tool(main, sys.argv[1:]))
