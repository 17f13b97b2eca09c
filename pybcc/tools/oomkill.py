"""oomkill: trace the OOM killer (bcc's output line).

bcc probes oom_kill_process() with a kprobe; where kprobes are missing the
oom:mark_victim tracepoint is used. It does not carry the OOM context, so
"pages" is then the system's RAM + swap in pages, which is what a global
OOM counts (a memory-cgroup OOM counts the cgroup's limit instead).
"""
import argparse
import ctypes
import os
import sys
from time import strftime

from .lib.runtime import Tool, stream_events
from .lib.procutil import comm_of

LOADAVG = "/proc/loadavg"


class Event(ctypes.Structure):
    _fields_ = [("fpid", ctypes.c_uint32), ("tpid", ctypes.c_uint32), ("pages", ctypes.c_uint64),
                ("fcomm", ctypes.c_char * 16), ("tcomm", ctypes.c_char * 16)]


def parse_args(argv):
    p = argparse.ArgumentParser(description="Trace OOM killer")
    p.add_argument("--duration", type=float, help="stop after this many seconds (pybcc extension)")
    return p.parse_args(argv)


def system_pages():
    """RAM + swap in pages: a global OOM's totalpages."""
    kb = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith(("MemTotal:", "SwapTotal:")):
                kb += int(line.split()[1])
    return kb * 1024 // os.sysconf("SC_PAGE_SIZE")


def format_event(e, loadavg, when=None):
    return ('%s Triggered by PID %d ("%s"), OOM kill of PID %d ("%s"), %d pages, loadavg: %s'
            % (when or strftime("%H:%M:%S"), e.fpid, e.fcomm.decode(errors="replace"), e.tpid,
               e.tcomm.decode(errors="replace"), e.pages, loadavg))


def open_tool():
    """The tool attached to the best hook here; returns (tool, program name)."""
    tool = Tool("oomkill", events=True)
    try:
        used = tool.attach_first("oom_kill_process", "mark_victim")
    except BaseException:
        tool.close()
        raise
    return tool, used


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    tool, _ = open_tool()
    with tool:
        def on_event(data):
            e = Event.from_buffer_copy(data[:ctypes.sizeof(Event)])
            if not e.pages:
                e.pages = system_pages()
            if not e.tcomm:
                e.tcomm = comm_of(e.tpid).encode()
            with open(LOADAVG) as f:
                print(format_event(e, f.read().rstrip()), flush=True)

        tool.open_events(on_event)
        print("Tracing OOM kills... Ctrl-C to stop.", flush=True)
        stream_events(tool, args.duration)
    return 0


if __name__ == "__main__":
    from .lib.runtime import run_tool
    sys.exit(run_tool(main, sys.argv[1:]))
