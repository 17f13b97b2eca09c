"""The screens of bcc's top-like tools (biotop, slabratetop): each interval
the screen cleared (or a blank line with -C), the time and load average,
the table's header and its rows; with --json one object with the rows."""
from time import strftime

from .report import report_loop
from .runtime import status

CLEAR_SCREEN = "\033[H\033[J"


def loadavg():
    with open("/proc/loadavg") as f:
        return f.read()


def top_report(table, rows, json, noclear):
    """One interval's screen (text) or object (json) of ``rows``."""
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
