"""oomkill: trace the OOM killer (bcc's output line).

bcc probes oom_kill_process() with a kprobe and prints the OOM context's
totalpages. Where kprobes are missing the oom:mark_victim tracepoint is used;
it does not carry the OOM context, so "pages" is worked out as the kernel
does: for a memory cgroup OOM (the killing task's memory cgroup, or an
ancestor, at its limit) that cgroup's limit plus the swap it may use
(mem_cgroup_get_max()), else the system's RAM + swap.
"""
import collections
import os
import sys
from time import strftime

from ..kernel import features
from ..output.table import Column, Table
from .lib.args import add_duration_and_json, tool_parser
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
    add_duration_and_json(p, "stop after this many seconds (pybcc extension)")
    return p.parse_args(argv)


def system_pages():
    """RAM + swap in pages: a global OOM's totalpages."""
    kb = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith(("MemTotal:", "SwapTotal:")):
                kb += int(line.split()[1])
    return kb * 1024 // os.sysconf("SC_PAGE_SIZE")


def memory_on_cgroup_v1():
    """The memory controller is on a cgroup v1 hierarchy (so memsw limits
    memory + swap), not on cgroup2."""
    try:
        with open("/proc/cgroups") as f:
            for line in f:
                fields = line.split()
                if fields[:1] == ["memory"]:
                    return fields[1] != "0" and fields[3] == "1"   # hierarchy id, enabled
    except (OSError, IndexError):
        pass
    return False


def swap_pages():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("SwapTotal:"):
                return int(line.split()[1]) * 1024 // os.sysconf("SC_PAGE_SIZE")
    return 0


def memcg_pages(e):
    """mem_cgroup_get_max() of the OOM's memory cgroup: its limit, plus the
    swap it may use when it may swap (v1: memsw less memory)."""
    pages = e.memcg_max
    swappiness = e.memcg_swappiness
    if swappiness < 0:
        with open("/proc/sys/vm/swappiness") as f:
            swappiness = int(f.read())
    if swappiness:
        swap = e.memcg_swap_max - e.memcg_max if memory_on_cgroup_v1() else e.memcg_swap_max
        pages += max(0, min(swap, swap_pages()))
    return pages


def oom_pages(e):
    """The OOM's totalpages: from the kprobe, else worked out (see above)."""
    if e.pages:
        return e.pages
    return memcg_pages(e) if e.memcg_max else system_pages()


def kill_row(e, loadavg, when=None):
    """The event as printed: where the hook could not tell the pages or
    the victim's name (the tracepoint), worked out here and /proc's comm."""
    return Kill(when or strftime("%H:%M:%S"), e.fpid, e.fcomm, e.tpid,
                e.tcomm or comm_of(e.tpid), oom_pages(e), loadavg)


def format_event(e, loadavg, when=None):
    return Table(COLUMNS).text(kill_row(e, loadavg, when))


def open_tool():
    """The tool attached to the best hook here; returns (tool, program name)."""
    tool = Tool("oomkill", {"memsw_account": memory_on_cgroup_v1()}, events=True)
    # the kprobe only where the kernel has kprobes: trying it costs a load
    choices = ("oom_kill_process", "mark_victim") if features.has_kprobes() else ("mark_victim",)
    try:
        used = tool.attach_first(*choices)
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
