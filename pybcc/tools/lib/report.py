"""The interval/report loop of the histogram and count tools.

Every interval (or once, at Ctrl-C or the end of --duration, without one) the
tool's ``report(json)`` empties its maps and returns bcc's text or, with
--json, a dict that becomes one NDJSON line stamped with the time.
"""
import sys
import time

from ...output.table import write_json
from .runtime import sleep_intervals

FOREVER = 99999999   # bcc's default interval: report only at Ctrl-C


def report_loop(report, interval=FOREVER, count=None, duration=None, json=False,
                timestamp=False, blank_line=True):
    """Call ``report`` each ``interval`` seconds, ``count`` times or for
    ``duration`` seconds, or until Ctrl-C (which reports once more).

    Text: a blank line (bcc's), the time when ``timestamp`` (-T), then the
    report. JSON: ``{"ts": epoch seconds, **report(True)}``."""
    if duration and interval >= FOREVER:
        interval = duration
    for last in sleep_intervals(interval, count, duration):
        if json:
            write_json({"ts": round(time.time(), 6), **report(True)})
        else:
            out = "\n" if blank_line else ""
            if timestamp:
                out += "%-8s\n" % time.strftime("%H:%M:%S")
            sys.stdout.write(out + report(False))
        sys.stdout.flush()
        if last:
            break
