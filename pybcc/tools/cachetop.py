"""cachetop: page cache hits and misses per process, in a screen like top's
(bcc's), or as plain text per interval with -C/--batch (pybcc)."""
import pwd
import sys
import time
from collections import defaultdict

from ..output.table import Column, Table, write_json
from .lib.args import add_json, pid, positive_int, tool_parser
from .lib.pagecache import attach_counters, meminfo_mb, process_row
from .lib.runtime import Tool, run_tool, sleep_intervals, status

EXAMPLES = """examples:
    ./cachetop             # run with default option of 5 seconds delay
    ./cachetop 1           # print every second hit/miss stats
    ./cachetop -C 1 10     # plain text, 10 one-second reports (pybcc)
    ./cachetop --json 1 5  # NDJSON, one object per interval (pybcc)

Keys on the screen: q quits, r reverses the order, < and > choose the
column to sort by. Output that is not a terminal is plain text (as -C).

Source: as cachestat's (see pybcc cachestat -h). Without kprobes the counts
are pages and DIRTIES are the pages the process dirtied.
"""
FIELDS = ("PID", "UID", "CMD", "HITS", "MISSES", "DIRTIES", "READ_HIT%", "WRITE_HIT%")


def parse_args(argv):
    p = tool_parser("cachetop", "Show Linux page cache hit/miss statistics including read "
                    "and write hit % per processes in a UI like top.", EXAMPLES)
    p.add_argument("-p", "--pid", type=pid, metavar="PID", help="trace this PID only")
    p.add_argument("-C", "--batch", action="store_true",
                   help="print plain text each interval instead of the screen (pybcc)")
    p.add_argument("-s", "--sort", choices=FIELDS, default="HITS",
                   help="sort by this column (default HITS, descending)")
    p.add_argument("-r", "--reverse", action="store_true", help="sort in ascending order")
    p.add_argument("interval", type=positive_int, default=5, nargs="?",
                   help="Interval between probes.")
    p.add_argument("count", type=positive_int, nargs="?", help="number of reports (pybcc)")
    add_json(p)
    return p.parse_args(argv)


def user_name(uid):
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:    # a user of another container
        return "UNKNOWN(%d)" % uid


class Process:
    def __init__(self, pid_, uid, comm, counts, mechanism):
        self.pid, self.uid, self.comm = pid_, uid, comm
        self.user = user_name(uid)
        (self.hits, self.misses, self.dirties,
         self.read_hit, self.write_hit) = process_row(counts, mechanism)

    def sort_key(self, field):
        return (self.pid, self.user, self.comm, self.hits, self.misses, self.dirties,
                self.read_hit, self.write_hit)[FIELDS.index(field)]


TABLE = Table([
    Column("PID", "%8d ", "pid", head="%-8s "),
    Column("UID", "%-8.8s ", "user", key="user"),
    Column("CMD", "%-16s ", "comm", key="cmd"),
    Column("HITS", "%8d ", "hits", head="%-8s "),
    Column("MISSES", "%8d ", "misses", head="%-8s "),
    Column("DIRTIES", "%8d ", "dirties", head="%-8s "),
    Column("READ_HIT%", "%9.1f%% ", "read_hit", head="%-10s ", key="read_hit"),
    Column("WRITE_HIT%", "%9.1f%%", "write_hit", head="%-10s", key="write_hit"),
])


def take_processes(counts_map, mechanism):
    """Empty the map into one Process per (pid, uid, comm)."""
    by_proc = defaultdict(dict)
    for k, v in counts_map.pop_all():
        by_proc[(k.pid, k.uid, k.comm)][k.nf] = v
    return [Process(*who, counts, mechanism) for who, counts in by_proc.items()]


def summary(sort, descending):
    buffers, cached = meminfo_mb()
    return "%-8s Buffers MB: %.0f / Cached MB: %.0f / Sort: %s / Order: %s" % (
        time.strftime("%H:%M:%S"), buffers, cached, sort,
        "descending" if descending else "ascending")


def batch(tool, args, mechanism):
    descending = not args.reverse
    for last in sleep_intervals(args.interval, args.count):
        procs = sorted(take_processes(tool.maps["counts"], mechanism),
                       key=lambda p: p.sort_key(args.sort), reverse=descending)
        if args.json:
            buffers, cached = meminfo_mb()
            write_json({"ts": round(time.time(), 6), "buffers_mb": round(buffers),
                        "cached_mb": round(cached),
                        "rows": [{**TABLE.as_dict(p), "uid": p.uid} for p in procs]})
        else:
            sys.stdout.write("\n".join([summary(args.sort, descending), TABLE.header_text()] +
                                       [TABLE.text(p) for p in procs]) + "\n\n")
        sys.stdout.flush()
        if last:
            break


def screen(stdscr, tool, args, mechanism):
    """bcc's curses screen: redrawn each interval; q, r, < and > keys."""
    import curses
    stdscr.nodelay(True)
    field, descending = FIELDS.index(args.sort), not args.reverse
    for last in sleep_intervals(args.interval, args.count):
        key = stdscr.getch()
        while key != -1:
            if key == ord("q"):
                return
            if key == ord("r"):
                descending = not descending
            elif key == ord("<"):
                field = max(0, field - 1)
            elif key == ord(">"):
                field = min(len(FIELDS) - 1, field + 1)
            key = stdscr.getch()
        procs = sorted(take_processes(tool.maps["counts"], mechanism),
                       key=lambda p: p.sort_key(FIELDS[field]), reverse=descending)
        height, width = stdscr.getmaxyx()
        stdscr.erase()
        stdscr.addnstr(0, 0, summary(FIELDS[field], descending), width - 1)
        stdscr.addnstr(1, 0, TABLE.header_text(), width - 1, curses.A_REVERSE)
        for i, p in enumerate(procs[:max(0, height - 3)]):
            stdscr.addnstr(i + 2, 0, TABLE.text(p), width - 1)
        stdscr.refresh()
        if last:
            return


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    constants = {"per_process": True}
    if args.pid:
        constants["targ_pid"] = args.pid
    with Tool("cachestat", constants) as tool:
        mechanism = attach_counters(tool)
        if args.batch or args.json or not sys.stdout.isatty():
            status("Tracing... Output every %d secs. Hit Ctrl-C to end" % args.interval,
                   args.json)
            batch(tool, args, mechanism)
        else:
            import curses
            curses.wrapper(screen, tool, args, mechanism)
        status("Detaching...", args.json)
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
