"""drsnoop: trace direct reclaim, with its latency (bcc's columns)."""
import os
import sys

from ..output.table import Column, Table
from .lib.args import add_json, pid, pid_tid_constants, positive_float, tool_parser, uid
from .lib.runtime import Tool, fail, run_tool
from .lib.snoop import attach_all, print_events
from .lib.timestamps import SinceFirst

EXAMPLES = """examples:
    ./drsnoop           # trace all direct reclaim
    ./drsnoop -T        # include timestamps
    ./drsnoop -U        # include UID
    ./drsnoop -P 181    # only trace PID 181
    ./drsnoop -t 123    # only trace TID 123
    ./drsnoop -u 1000   # only trace UID 1000
    ./drsnoop -d 10     # trace for 10 seconds only
    ./drsnoop -n main   # only print process names containing "main"
    ./drsnoop --memcg   # also reclaim of tasks at their memory cgroup's limit (pybcc)
    ./drsnoop --json    # NDJSON, one object per reclaim (pybcc)

Source: vmscan:mm_vmscan_direct_reclaim_begin/end, as bcc. -v reads
vm_zone_stat, whose address only /proc/kallsyms with CONFIG_KALLSYMS_ALL gives.
"""


def parse_args(argv):
    p = tool_parser("drsnoop", "Trace direct reclaim", EXAMPLES)
    p.add_argument("-T", "--timestamp", action="store_true", help="include timestamp on output")
    p.add_argument("-U", "--print-uid", action="store_true", help="print UID column")
    p.add_argument("-p", "-P", "--pid", type=pid, help="trace this PID only")
    p.add_argument("-t", "--tid", type=pid, help="trace this TID only")
    p.add_argument("-u", "--uid", type=uid, help="trace this UID only")
    p.add_argument("-d", "--duration", type=positive_float,
                   help="total duration of trace in seconds")
    p.add_argument("-n", "--name", help="only print process names containing this name")
    p.add_argument("-v", "--verbose", action="store_true", help="show system memory state")
    p.add_argument("--memcg", action="store_true",
                   help="also trace memory cgroup limit reclaim (pybcc)")
    add_json(p)
    return p.parse_args(argv)


def kernel_symbol(*names):
    """The address of the first of ``names`` in /proc/kallsyms, or 0."""
    found = {}
    with open("/proc/kallsyms") as f:
        for line in f:
            addr, _, name = line.split()[:3]
            if name in names:
                found[name] = int(addr, 16)
    return next((found[n] for n in names if found.get(n)), 0)


def columns(args):
    page_kb = os.sysconf("SC_PAGE_SIZE") // 1024
    return [
        Column("TIME(s)", "%-14.9f", SinceFirst("ts_us", 1e6)) if args.timestamp else None,
        Column("UID", "%-6d", lambda e: e.uid) if args.print_uid else None,
        Column("COMM", "%-14.14s ", lambda e: e.comm),
        Column("TID" if args.tid else "PID", "%-6s ",
               (lambda e: e.id & 0xFFFFFFFF) if args.tid else (lambda e: e.id >> 32)),
        Column("LAT(ms)", "%8.2f ", lambda e: e.delta_ns / 1e6),
        Column("PAGES", "%5d", lambda e: e.nr_reclaimed),
        Column("FREE(KB)", "%10d", lambda e: e.free_pages * page_kb) if args.verbose else None,
    ]


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    constants = pid_tid_constants(args)
    if args.uid is not None:
        constants["targ_uid"] = args.uid
    if args.verbose:
        addr = kernel_symbol("vm_zone_stat", "vm_stat")
        if not addr:
            return fail("-v needs vm_zone_stat's address, which /proc/kallsyms does not "
                        "show here (CONFIG_KALLSYMS_ALL off, or kptr_restrict)")
        constants["vm_zone_stat_addr"] = addr
    name = args.name.encode() if args.name else None
    table = Table(columns(args), json=args.json)

    with Tool("drsnoop", constants, events=True) as tool:
        memcg = ("memcg_begin", "memcg_end") if args.memcg else ()
        attach_all(tool, ("direct_begin", "direct_end") + memcg)
        print_events(tool, table, args.duration, comm=name)
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
