"""gethostlatency: show latency of getaddrinfo/gethostbyname[2] calls (bcc's columns and flags)."""
import argparse
import ctypes
import os
import sys
from time import strftime

from ..attach import uprobe
from ..symbols import elfsyms
from ..symbols.libpath import find_library
from .lib.runtime import TOOLS_DIR, Tool, fail, stream_events

EXAMPLES = """examples:
    ./gethostlatency           # time getaddrinfo/gethostbyname[2] calls
    ./gethostlatency -p 181    # only trace PID 181
"""

FUNCTIONS = ("getaddrinfo", "gethostbyname", "gethostbyname2")


def parse_args(argv):
    p = argparse.ArgumentParser(description="Show latency for getaddrinfo/gethostbyname[2] calls",
                                epilog=EXAMPLES,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-p", "--pid", help="trace this PID only", type=int, default=-1)
    p.add_argument("--ebpf", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--duration", type=float, help="stop after this many seconds (pybcc extension)")
    return p.parse_args(argv)


class Event(ctypes.Structure):
    _fields_ = [("delta_ns", ctypes.c_uint64), ("pid", ctypes.c_uint32),
                ("pad", ctypes.c_uint32), ("comm", ctypes.c_char * 16),
                ("host", ctypes.c_char * 80)]


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.ebpf:
        with open(os.path.join(TOOLS_DIR, "gethostlatency.bpf.c")) as f:
            print(f.read())
        return 0
    pid = args.pid if args.pid > 0 else None
    libc = find_library("c", pid)
    if not libc:
        fail("gethostlatency: cannot find libc" + (f" of PID {pid}" if pid else ""))
    constants = {"targ_pid": pid} if pid else {}

    with Tool("gethostlatency", constants, events=True) as tool:
        entry = tool.coll.load_program("lookup_entry")
        ret = tool.coll.load_program("lookup_return")
        syms = elfsyms.load(libc)
        for func in FUNCTIONS:
            sym = syms.find(func)
            if sym is None:
                if func == "getaddrinfo":   # the others are legacy, maybe absent
                    fail(f"gethostlatency: {libc} has no {func}")
                continue
            for prog, retprobe in ((entry, False), (ret, True)):
                tool.links.append(uprobe.attach_uprobe(prog.fd, libc, offset=sym.offset,
                                                       retprobe=retprobe, pid=pid or -1))

        def on_event(data):
            e = Event.from_buffer_copy(data[:ctypes.sizeof(Event)])
            print("%-9s %-7d %-16s %10.2f %s" % (strftime("%H:%M:%S"), e.pid,
                                                 e.comm.decode(errors="replace"),
                                                 e.delta_ns / 1e6,
                                                 e.host.decode(errors="replace")), flush=True)

        tool.open_events(on_event)
        print("%-9s %-7s %-16s %10s %s" % ("TIME", "PID", "COMM", "LATms", "HOST"), flush=True)
        stream_events(tool, args.duration)
    return 0


if __name__ == "__main__":
    from .lib.runtime import run_tool
    sys.exit(run_tool(main, sys.argv[1:]))
