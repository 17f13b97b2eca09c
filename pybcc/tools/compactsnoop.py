"""compactsnoop: trace zone compactions with their latency and result
(bcc's columns)."""
import sys

from ..output.table import Column, Table, write_json
from .lib.args import add_json, pid, positive_int, tool_parser
from .lib.runtime import Tool, run_tool, status, stream_events
from .lib.stacks import StackPrinter

EXAMPLES = """examples:
    ./compactsnoop          # trace all compact stall
    ./compactsnoop -T       # include timestamps
    ./compactsnoop -d 10    # trace for 10 seconds only
    ./compactsnoop -K       # output kernel stack trace
    ./compactsnoop -e       # show extended fields
    ./compactsnoop --json   # NDJSON, one object per compaction (pybcc)

Source: the compaction tracepoints, as bcc's. Also shown (bcc misses them):
whole-zone compactions, from /proc/sys/vm/compact_memory or proactive
compaction, which skip the suitability check: ORDER -1, NODE and ZONE "-".
-e: FRAGIDX is worked out from the zone's free blocks per order at the
check, as fragmentation_index() does (bcc reads its return with a
kretprobe); -1.000 where the kernel does not ask (order <= 3).
"""
# enum compact_result, as the tracepoints print it
STATUS = {0: "not_suitable_zone", 1: "skipped", 2: "deferred", 3: "no_suitable_page",
          4: "continue", 5: "complete", 6: "partial_skipped", 7: "contended", 8: "success"}
COSTLY_ORDER = 3    # PAGE_ALLOC_COSTLY_ORDER: fragmentation_index() is asked above it


def parse_args(argv):
    p = tool_parser("compactsnoop", "Trace compact zone", EXAMPLES)
    p.add_argument("-T", "--timestamp", action="store_true", help="include timestamp on output")
    p.add_argument("-p", "--pid", type=pid, help="trace this PID only")
    p.add_argument("-d", "--duration", type=positive_int,
                   help="total duration of trace in seconds")
    p.add_argument("-K", "--kernel-stack", action="store_true",
                   help="output kernel stack trace")
    p.add_argument("-e", "--extended_fields", action="store_true",
                   help="show system memory state")
    add_json(p)
    return p.parse_args(argv)


def fragmentation_index(order, nr_free):
    """fragmentation_index(): 0..1000, towards 1000 when a failing
    allocation fails for fragmentation rather than lack of memory; -1000
    when it would succeed."""
    if order <= COSTLY_ORDER:
        return -1000    # the kernel does not ask; bcc shows its initial -1000
    blocks = sum(nr_free)
    if not blocks:
        return 0
    if sum(n << (o - order) for o, n in enumerate(nr_free) if o >= order):
        return -1000
    free_pages = sum(n << o for o, n in enumerate(nr_free))
    return 1000 - (1000 + free_pages * 1000 // (1 << order)) // blocks


def zone_name(z):
    name = z.zone.decode(errors="replace") if isinstance(z.zone, bytes) else z.zone
    return "ZONE_" + name.upper() if name else "-"


def columns(args, first_ts):
    ext = args.extended_fields
    return [
        Column("TIME(s)", "%-14.9f ", lambda e: (e.ts - first_ts[0]) / 1e6, key="time_s")
        if args.timestamp else None,
        Column("COMM", "%-14.14s ", "comm"),
        Column("PID", "%-6s ", "pid"),
        Column("NODE", "%-4s ", lambda e: e.z.nid if e.z.nid >= 0 else "-", key="node"),
        Column("ZONE", "%-12s ", lambda e: zone_name(e.z), key="zone"),
        Column("ORDER", "%-5s ", lambda e: e.z.order, key="order"),
        Column("MODE", "%-7s ", lambda e: "SYNC" if e.sync else "ASYNC", key="mode"),
        Column("FRAGIDX", "%-8.3f ", lambda e: fragmentation_index(
            e.z.order, list(e.z.nr_free[:e.z.norders])) / 1000, key="fragidx") if ext else None,
        Column("MIN", "%-8s ", lambda e: e.z.min, key="min") if ext else None,
        Column("LOW", "%-8s ", lambda e: e.z.low, key="low") if ext else None,
        Column("HIGH", "%-8s ", lambda e: e.z.high, key="high") if ext else None,
        Column("FREE", "%-8s ", lambda e: e.z.free, key="free") if ext else None,
        Column("LAT(ms)", "%9.3f ", lambda e: e.delta / 1e6, key="lat_ms"),
        Column("STATUS", "%16s", lambda e: STATUS.get(e.status, str(e.status)), key="status"),
    ]


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    constants = {"extended": args.extended_fields, "kernel_stack": args.kernel_stack}
    if args.pid:
        constants["targ_tgid"] = args.pid
    first_ts = [None]
    table = Table(columns(args, first_ts), json=args.json)
    # the stack map (2 MB made at the start) only with -K
    sizes = {} if args.kernel_stack else {"stack_traces": 1}
    with Tool("compactsnoop", constants, events=True, map_sizes=sizes) as tool:
        tool.attach_first("suitable_btf", "suitable_raw")
        tool.attach("compaction_begin")
        tool.attach("compaction_end")
        decode = tool.record("event").decode
        printer = StackPrinter(tool.maps["stack_traces"], user=False, offsets=True)

        def on_event(data):
            e = decode(data)
            if first_ts[0] is None:
                first_ts[0] = e.ts
            frames = printer.kernel_frames(e.kstack) if args.kernel_stack and e.kstack >= 0 \
                else []
            if args.json:
                row = table.as_dict(e)
                if args.kernel_stack:
                    row["stack"] = [f.name for f in frames]
                write_json(row)
                return
            table.write(e)
            if args.kernel_stack:
                sys.stdout.write("".join("\t%s\n" % f.name for f in frames) + "\n")
        tool.open_events(on_event)
        if args.json:
            status("Tracing compactions... Hit Ctrl-C to end.", True)
        table.print_header()
        stream_events(tool, args.duration)
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
