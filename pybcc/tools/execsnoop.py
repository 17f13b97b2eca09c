"""execsnoop: trace new processes via exec() syscalls (bcc's columns and flags)."""
import argparse
import ctypes
import re
import sys
import time

from .lib.runtime import Tool, run_tool, stream_events
from .lib.procutil import ppid_of

EXAMPLES = """examples:
    ./execsnoop           # trace all exec() syscalls
    ./execsnoop -x        # include failed exec()s
    ./execsnoop -T        # include time (HH:MM:SS)
    ./execsnoop -U        # include UID
    ./execsnoop -u 1000   # only trace UID 1000
    ./execsnoop -t        # include timestamps
    ./execsnoop -q        # add "quotemarks" around arguments
    ./execsnoop -n main   # only print command lines containing "main"
    ./execsnoop -l tpkg   # only print command where arguments contains "tpkg"
    ./execsnoop -P 181    # only trace new processes whose parent PID is 181
"""


def parse_args(argv):
    p = argparse.ArgumentParser(description="Trace exec() syscalls", epilog=EXAMPLES,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-T", "--time", action="store_true", help="include time column on output (HH:MM:SS)")
    p.add_argument("-t", "--timestamp", action="store_true", help="include timestamp on output")
    p.add_argument("-x", "--fails", action="store_true", help="include failed exec()s")
    p.add_argument("-u", "--uid", type=int, help="trace this UID only")
    p.add_argument("-q", "--quote", action="store_true",
                   help='Add quotemarks (") around arguments.')
    p.add_argument("-n", "--name", help="only print commands matching this name (regex), any arg")
    p.add_argument("-l", "--line", help="only print commands where arg contains this line (regex)")
    p.add_argument("-U", "--print-uid", action="store_true", help="print UID column")
    p.add_argument("--max-args", default="20", help="maximum number of arguments parsed and displayed, defaults to 20")
    p.add_argument("-P", "--ppid", type=int, help="trace this parent PID only")
    p.add_argument("--duration", type=float, help="stop after this many seconds (pybcc extension)")
    return p.parse_args(argv)


class Event(ctypes.Structure):
    _fields_ = [("pid", ctypes.c_uint32), ("ppid", ctypes.c_uint32), ("uid", ctypes.c_uint32),
                ("retval", ctypes.c_int32), ("args_count", ctypes.c_int32),
                ("args_size", ctypes.c_uint32), ("comm", ctypes.c_char * 16)]


HEADER_SIZE = ctypes.sizeof(Event)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    max_args = int(args.max_args)
    if not 1 <= max_args <= 60:
        print("--max-args must be between 1 and 60", file=sys.stderr)
        return 1
    constants = {"max_args": max_args, "ignore_failed": not args.fails}
    if args.uid is not None:
        constants["targ_uid"] = args.uid
    if args.ppid is not None:
        constants["targ_ppid"] = args.ppid
    name_re = re.compile(args.name.encode()) if args.name else None
    line_re = re.compile(args.line.encode()) if args.line else None
    start = time.time()

    with Tool("execsnoop", constants, events=True) as tool:
        tool.attach("execve_enter")
        tool.attach("execve_exit")

        def on_event(data):
            e = Event.from_buffer_copy(data[:HEADER_SIZE])
            raw = bytes(data[HEADER_SIZE:HEADER_SIZE + e.args_size])
            argv_list = raw.split(b"\0")[:-1] if raw else []
            if e.args_count > len(argv_list):
                argv_list.append(b"...")
            if args.quote:
                argv_list = [b'"' + a.replace(b'"', b'\\"') + b'"' for a in argv_list]
            argv_text = b" ".join(argv_list).replace(b"\n", b"\\n")
            if name_re and not name_re.search(e.comm):
                return
            if line_re and not line_re.search(argv_text):
                return
            out = ""
            if args.time:
                out += "%-9s" % time.strftime("%H:%M:%S")
            if args.timestamp:
                out += "%-8.3f" % (time.time() - start)
            if args.print_uid:
                out += "%-6d" % e.uid
            ppid = e.ppid if e.ppid > 0 else ppid_of(e.pid)
            out += "%-16s %-7d %-7s %3d %s" % (e.comm.decode(errors="replace"), e.pid,
                                              str(ppid) if ppid > 0 else "?", e.retval,
                                              argv_text.decode(errors="replace"))
            print(out)

        tool.open_events(on_event)
        header = ""
        if args.time:
            header += "%-9s" % "TIME"
        if args.timestamp:
            header += "%-8s" % "TIME(s)"
        if args.print_uid:
            header += "%-6s" % "UID"
        print(header + "%-16s %-7s %-7s %3s %s" % ("PCOMM", "PID", "PPID", "RET", "ARGS"), flush=True)
        stream_events(tool, args.duration)
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
