"""biolatpcts: latency percentiles of one block device's I/O, by operation
(bcc's flags and output)."""
import argparse
import json
import os
import signal
import sys
import threading
import time

from ..errors import BPFError
from .lib.args import tool_parser
from .lib.disks import disk_devt
from .lib.runtime import Tool, fail, run_tool

EPILOG = """
When interval is infinite, biolatpcts will print out result once the
initialization is complete to indicate readiness. After initialized,
biolatpcts will output whenever it receives SIGUSR1/2 and before exiting on
SIGINT, SIGTERM or SIGHUP.

SIGUSR1 starts a new period after reporting. SIGUSR2 doesn't and can be used
to monitor progress without affecting accumulation of data points. They can
be used to obtain latency distribution between two arbitrary events and
monitor progress inbetween.

--json prints the same object as -j, one line per report (pybcc).
"""
OPS = ("read", "write", "discard", "flush")
SLOTS = 100
# the three resolutions of lat_slots, in usecs per slot
RESOLUTIONS = (100_000, 1_000, 10)
MSEC, SEC = 1000, 1000 * 1000
WHICH = {"from-rq-alloc": 0, "after-rq-alloc": 1, "on-device": 2}


def device(text):
    """MAJ:MIN, /dev/NAME or NAME → (major, minor, the name bcc heads the report with)."""
    major, sep, minor = text.partition(":")
    if sep and major.isdigit() and minor.isdigit():
        return int(major), int(minor), text
    devt = disk_devt(text)
    if devt is None:
        raise argparse.ArgumentTypeError(f"no such block device '{text}'")
    return devt[0], devt[1], os.path.basename(text)


def percentages(text):
    out = text.split(",")
    try:
        if not all(0 <= float(p) <= 100 for p in out):
            raise ValueError
    except ValueError:
        raise argparse.ArgumentTypeError(f"percentiles are numbers 0..100: {text!r}") from None
    return sorted(out, key=float)


def parse_args(argv):
    p = tool_parser("biolatpcts", "Monitor IO latency distribution of a block device",
                    EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("dev", metavar="DEV", type=device,
                   help="Target block device (/dev/DEVNAME, DEVNAME or MAJ:MIN)")
    p.add_argument("-i", "--interval", type=int, default=3,
                   help="Report interval (0: exit after startup, -1: infinite) (default: 3)")
    p.add_argument("-w", "--which", choices=list(WHICH), default="on-device",
                   help="Which latency to measure (default: on-device)")
    p.add_argument("-p", "--pcts", metavar="PCT,...", type=percentages,
                   default=percentages("1,5,10,16,25,50,75,84,90,95,99,100"),
                   help="Percentiles to calculate (default: 1,5,10,16,25,50,75,84,90,95,99,100)")
    p.add_argument("-j", "--json", action="store_true", help="Output in json")
    p.add_argument("--verbose", "-v", action="count", default=0)
    return p.parse_args(argv)


def buckets(counts, op):
    """The op's latency buckets, lowest first, as (midpoint usecs, count):
    the 10us slots under 1ms, the 1ms slots from 1ms to 100ms, the 100ms
    slots above. Each finer resolution holds the coarser one's slot 0."""
    out = []
    for res, gran in reversed(list(enumerate(RESOLUTIONS))):
        base = (res * len(OPS) + op) * SLOTS
        first = 0 if gran == RESOLUTIONS[-1] else 1
        out += [(gran * i + gran / 2, counts[base + i]) for i in range(first, SLOTS)]
    return out


def latency_percentiles(pcts, bucket_list):
    """Per requested percentile p (ascending), the midpoint of the bucket
    where, walking down from the slowest, the I/Os counted reach 100 - p
    percent of all; 0 when there were none."""
    total = sum(c for _, c in bucket_list)
    result = [0] * len(pcts)
    if not total:
        return result
    want = len(pcts) - 1
    counted = 0
    for mid, count in reversed(bucket_list):
        if not count:
            continue
        counted += count
        while want >= 0 and counted * 100 / total >= 100 - float(pcts[want]):
            result[want] = mid
            want -= 1
        if want < 0:
            break
    return result


def format_usec(lat):
    if lat > SEC:
        return "%.1fs" % (lat / SEC)
    if lat > 10 * MSEC:
        return "%.0fms" % (lat / MSEC)
    if lat > MSEC:
        return "%.1fms" % (lat / MSEC)
    if lat > 0:
        return "%.0fus" % lat
    return "-"


def report_text(name, pcts, lats):
    widths = [max(len(p), 5) for p in pcts]
    out = ["\n%-7s" % name + "".join(" %5s" % p for p in pcts)]
    for op, row in zip(OPS, lats):
        out.append("%-7s" % op + "".join(" %*s" % (w, format_usec(v))
                                         for w, v in zip(widths, row)))
    return "\n".join(out) + "\n"


NO_ALLOC_TIME = len(RESOLUTIONS) * len(OPS) * SLOTS


def slots_text(delta):
    """-v: each op's slots per resolution, as bcc prints them."""
    out = []
    for op, name in enumerate(OPS):
        for res, label in enumerate(("100ms", "  1ms", " 10us")):
            base = (res * len(OPS) + op) * SLOTS
            out.append("%-7s %s %s\n" % (name, label, delta[base:base + SLOTS]))
    return "".join(out)


class Counts:
    """The kernel's cumulative counts, and those at the start of the period."""

    def __init__(self, slots_map):
        self.map = slots_map
        self.last = [0] * (NO_ALLOC_TIME + 1)

    def read(self):
        try:
            return [sum(v) for _, v in sorted(self.map.lookup_batch())]
        except BPFError:    # no batch operations on array maps before 5.6
            return [self.map.sum(i) for i in range(NO_ALLOC_TIME + 1)]

    def period(self, new_period):
        now = self.read()
        if now[NO_ALLOC_TIME]:
            fail("biolatpcts: -w from-rq-alloc needs a kernel with CONFIG_BLK_RQ_ALLOC_TIME "
                 "(struct request has no alloc_time_ns here)")
        delta = [max(a - b, 0) for a, b in zip(now, self.last)]
        if new_period:
            self.last = now
        return delta


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    major, minor, name = args.dev
    constants = {"which": WHICH[args.which], "filter_dev": True,
                 "targ_major": major, "targ_minor": minor}
    with Tool("biolatpcts", constants) as tool:
        tool.attach_first("rq_complete_btf", "rq_complete_raw")
        if args.interval == 0:      # a check that it can run
            return 0
        counts = Counts(tool.maps["lat_slots"])
        wake = threading.Event()
        state = {"running": True, "new_period": False}

        def on_signal(sig, frame):
            if sig == signal.SIGUSR1:
                state["new_period"] = True
            elif sig != signal.SIGUSR2:
                state["running"] = False
            wake.set()
        for sig in (signal.SIGUSR1, signal.SIGUSR2, signal.SIGINT, signal.SIGTERM,
                    signal.SIGHUP):
            signal.signal(sig, on_signal)
        if args.interval < 0:
            wake.set()      # the first report says it is ready
        while state["running"]:
            # short waits: a signal handler runs only between them
            deadline = time.monotonic() + args.interval if args.interval > 0 else None
            while not wake.is_set() and (deadline is None or time.monotonic() < deadline):
                wake.wait(0.2)
            wake.clear()
            delta = counts.period(args.interval > 0 or state["new_period"])
            state["new_period"] = False
            lats = [latency_percentiles(args.pcts, buckets(delta, op)) for op in range(len(OPS))]
            if args.verbose:
                sys.stdout.write(slots_text(delta))
            if args.json:
                print(json.dumps({op: {p: v / SEC for p, v in zip(args.pcts, row)}
                                  for op, row in zip(OPS, lats)}), flush=True)
            else:
                sys.stdout.write(report_text(name, args.pcts, lats))
                sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
