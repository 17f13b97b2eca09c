"""The screen of bcc's top-like tools (filetop, dirtop, biotop, slabratetop):
each interval the screen cleared (or, with -C, a blank line), the time and load
average, then the table's header and the biggest rows; with --json one object
per interval."""
from time import strftime

from .args import pid, positive_int
from .report import report_loop
from .runtime import status

CLEAR_SCREEN = "\033[H\033[J"
SORTS = ("all", "reads", "writes", "rbytes", "wbytes")


def add_top_args(p):
    """bcc's -C, -r, -s and -p of filetop and dirtop."""
    p.add_argument("-C", "--noclear", action="store_true", help="don't clear the screen")
    p.add_argument("-r", "--maxrows", default=20, type=positive_int,
                   help="maximum rows to print, default 20")
    p.add_argument("-s", "--sort", default="all", choices=SORTS, help="sort column, default all")
    p.add_argument("-p", "--pid", type=pid, metavar="PID", help="trace this PID only")


def rw_sort_key(sort):
    """-s: the order of (key, struct rw_counts) rows; "all" adds up every count."""
    if sort == "all":
        return lambda r: r[1].rbytes + r[1].wbytes + r[1].reads + r[1].writes
    return lambda r: getattr(r[1], sort)


def loadavg():
    with open("/proc/loadavg") as f:
        return f.read()


def top_report(table, rows, json, noclear):
    """One interval's screen (text) or object (json) of ``rows`` (already
    sorted and cut to -r)."""
    if json:
        return {"loadavg": loadavg().split()[:3], "rows": [table.as_dict(r) for r in rows]}
    head = "\n" if noclear else CLEAR_SCREEN
    head += "%-8s loadavg: %s\n" % (strftime("%H:%M:%S"), loadavg())
    return "".join([head, table.header_text(), "\n", *(table.text(r) + "\n" for r in rows)])


def run_top(report, args):
    """bcc's loop: "Tracing...", a report each interval (count times or
    until Ctrl-C), "Detaching..."."""
    status("Tracing... Output every %d secs. Hit Ctrl-C to end" % args.interval, args.json)
    report_loop(report, args.interval, args.count, None, args.json, blank_line=False)
    status("Detaching...", args.json)


def top_loop(rows, sort_key, table, args):
    """Report each args.interval seconds, args.count times, the args.maxrows
    biggest by ``sort_key`` of what ``rows()`` gives (and empties)."""
    def report(json):
        top = sorted(rows(), key=sort_key, reverse=True)[:args.maxrows]
        return top_report(table, top, json, args.noclear)

    run_top(report, args)
