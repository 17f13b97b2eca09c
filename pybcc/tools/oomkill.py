"""oomkill: trace the OOM killer (bcc's output line).

bcc probes oom_kill_process() with a kprobe; where kprobes are missing the
oom:mark_victim tracepoint is used. It does not carry the OOM context, so
"pages" is then the system's RAM + swap in pages, which is what a global
OOM counts (a memory-cgroup OOM counts the cgroup's limit instead).
"""
import collections
import os
import sys
from time import strftime

from ..output.table import Column, Table
from .lib.args import add_duration, add_json, tool_parser
from .lib.procutil import comm_of
from .lib.runtime import Tool, status, stream_events

LOADAVG = "/proc/loadavg"

# bcc's one sentence per kill, cut into columns at its values
COLUMNS = [
    Column("TIME", "%s Triggered by ", "time"),
    Column("FPID", "PID %d ", "fpid"),
    Column("FCOMM", '("%s"), OOM kill of ', "fcomm"),
    Column("TPID", "PID %d ", "tpid"),
    Column("TCOMM", '("%s"), ', "tcomm"),
    Column("PAGES", "%d pages, ", "pages"),
    Column("LOADAVG", "loadavg: %s", "loadavg"),
]
Kill = collections.namedtuple("Kill", [c.attr for c in COLUMNS])


def parse_args(argv):
    p = tool_parser("oomkill", "Trace OOM killer")
    add_duration(p, "stop after this many seconds (pybcc extension)")
    add_json(p)
    return p.parse_args(argv)


def system_pages():
    """RAM + swap in pages: a global OOM's totalpages."""
    kb = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith(("MemTotal:", "SwapTotal:")):
                kb += int(line.split()[1])
    return kb * 1024 // os.sysconf("SC_PAGE_SIZE")


def kill_row(e, loadavg, when=None):
    """The event as printed: where the hook could not tell the pages or
    the victim's name (the tracepoint), the system's pages and /proc's comm."""
    return Kill(when or strftime("%H:%M:%S"), e.fpid, e.fcomm, e.tpid,
                e.tcomm or comm_of(e.tpid), e.pages or system_pages(), loadavg)


def format_event(e, loadavg, when=None):
    return Table(COLUMNS).text(kill_row(e, loadavg, when))


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
    table = Table(COLUMNS, json=args.json)
    tool, _ = open_tool()
    with tool:
        decode = tool.record("event").decode

        def on_event(data):
            with open(LOADAVG) as f:
                table.write(kill_row(decode(data), f.read().rstrip()))

        tool.open_events(on_event)
        status("Tracing OOM kills... Ctrl-C to stop.", args.json)
        stream_events(tool, args.duration)
    return 0


if __name__ == "__main__":
    from .lib.runtime import run_tool
    sys.exit(run_tool(main, sys.argv[1:]))
