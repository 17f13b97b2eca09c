"""biosnoop: trace block device I/O with PID and latency (bcc's flags and columns)."""
import argparse
import ctypes
import sys
import time

from ..output.heatmap import HeatMap
from .lib.runtime import Tool, fail, run_tool, stream_events
from .lib.disks import disk_devt
from .lib.heatmaps import add_heatmap_arg, command_line, write_heatmap
from .lib.outfile import check_writable

EXAMPLES = """examples:
    ./biosnoop           # trace all block I/O
    ./biosnoop -Q        # include OS queued time
    ./biosnoop -d sdc    # trace sdc only
    ./biosnoop -P        # display block I/O pattern
    ./biosnoop --heatmap io.svg --duration 60   # and a latency heat map of the minute
"""


def parse_args(argv):
    p = argparse.ArgumentParser(description="Trace block I/O",
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=EXAMPLES)
    p.add_argument("-Q", "--queue", action="store_true", help="include OS queued time")
    p.add_argument("-d", "--disk", type=str, help="trace this disk only")
    p.add_argument("-P", "--pattern", action="store_true",
                   help="display block I/O pattern (sequential or random)")
    p.add_argument("--duration", type=float, help="stop after this many seconds (pybcc extension)")
    add_heatmap_arg(p)
    return p.parse_args(argv)


class Event(ctypes.Structure):
    _fields_ = [("ts", ctypes.c_uint64), ("delta", ctypes.c_uint64), ("qdelta", ctypes.c_uint64),
                ("sector", ctypes.c_uint64), ("len", ctypes.c_uint64), ("pid", ctypes.c_uint32),
                ("rwflag", ctypes.c_uint32), ("pattern", ctypes.c_uint32),
                ("comm", ctypes.c_char * 16), ("disk", ctypes.c_char * 32)]


PATTERNS = {1: "S", 2: "R"}


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    heat = None
    if args.heatmap:
        check_writable(args.heatmap, "biosnoop")
        heat = HeatMap(unit="usecs", what="I/Os")      # LAT(ms), in 1 s columns
    constants = {}
    if args.disk is not None:
        devt = disk_devt(args.disk)
        if devt is None:
            fail("no such disk '%s'" % args.disk)
        constants.update(filter_dev=True, targ_major=devt[0], targ_minor=devt[1])

    with Tool("biosnoop", constants, events=True) as tool:
        # who created the request: where it is accounted (block_io_start,
        # Linux 6.5+), else where it is inserted into the queue
        tool.attach_first("io_start_btf", "io_start_raw", "rq_insert_btf", "rq_insert_raw")
        tool.attach_first("rq_issue_btf", "rq_issue_raw")
        tool.attach_first("rq_complete_btf", "rq_complete_raw")
        first_ts = [0]

        def on_event(data):
            e = Event.from_buffer_copy(data[:ctypes.sizeof(Event)])
            if not first_ts[0]:
                first_ts[0] = e.ts
            out = "%-11.6f %-14.14s %-7s %-9s %-1s %-10s %-7s" % (
                (e.ts - first_ts[0]) / 1000000, e.comm.decode(errors="replace"), e.pid,
                e.disk.decode(errors="replace") or "<unknown>", "W" if e.rwflag else "R",
                e.sector, e.len)
            if args.pattern:
                out += "%-1s " % PATTERNS.get(e.pattern, "?")
            if args.queue:
                out += "%7.2f " % (e.qdelta / 1000000)
            print(out + "%7.2f" % (e.delta / 1000000), flush=True)
            if heat:
                heat.add(e.ts / 1e6, e.delta / 1000)

        tool.open_events(on_event)
        header = "%-11s %-14s %-7s %-9s %-1s %-10s %-7s" % (
            "TIME(s)", "COMM", "PID", "DISK", "T", "SECTOR", "BYTES")
        if args.pattern:
            header += "%-1s " % "P"
        if args.queue:
            header += "%7s " % "QUE(ms)"
        print(header + "%7s" % "LAT(ms)", flush=True)
        started = time.monotonic()
        stream_events(tool, args.duration)
    if heat:
        write_heatmap(heat, args.heatmap, "Block I/O Latency Heat Map", command_line("biosnoop", argv),
                      started)
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
