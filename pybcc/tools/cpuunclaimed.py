"""cpuunclaimed: sample CPU run queues and calculate unclaimed idle CPU
(bcc's flags and output)."""
import os
import sys
import time

from ..kernel.uapi import PERF_COUNT_SW_CPU_CLOCK, PERF_TYPE_SOFTWARE
from ..output.table import write_json
from .lib.args import add_ebpf, positive_float, positive_int, tool_parser
from .lib.runtime import Tool, fail, run_tool, status, take_interrupts

EXAMPLES = """examples:
    ./cpuunclaimed            # sample and calculate unclaimed idle CPUs,
                              # output every 1 second (default)
    ./cpuunclaimed 5 10       # print 5 second summaries, 10 times
    ./cpuunclaimed -T 1       # 1s summaries and timestamps
    ./cpuunclaimed -j         # raw dump of all samples (verbose), CSV
"""

FREQUENCY = 99
PERIOD_NS = 1_000_000_000 // FREQUENCY      # one fixed period: every CPU samples in step
TRIGGER_NS = int(0.8 * PERIOD_NS)           # a gap this long starts the next moment
CSV_INTERVAL = 0.2
JSON_HELP = ("print NDJSON: per interval {cpu_pct, unclaimed_idle_pct}; with -j/-J per "
             "moment {timestamp_ns, lens, offsets_ns} (pybcc extension)")


def parse_args(argv):
    p = tool_parser("cpuunclaimed", "Sample CPU run queues and calculate unclaimed idle CPU",
                    EXAMPLES)
    p.add_argument("-j", "--csv", action="store_true",
                   help="print sample summaries (verbose) as comma-separated values")
    p.add_argument("-J", "--fullcsv", action="store_true",
                   help="print sample summaries with extra fields: CPU sample offsets")
    p.add_argument("-T", "--timestamp", action="store_true", help="include timestamp on output")
    p.add_argument("interval", nargs="?", type=positive_float, help="output interval, in seconds")
    p.add_argument("count", nargs="?", default=99999999, type=positive_int,
                   help="number of outputs")
    p.add_argument("--json", action="store_true", help=JSON_HELP)
    add_ebpf(p, "cpuunclaimed")
    args = p.parse_args(argv)
    args.csv = args.csv or args.fullcsv
    if args.interval is not None and args.csv:
        fail("ERROR: cannot use interval with either -j or -J. Exiting.")
    return args


class Moments:
    """The CPUs' samples, grouped into moments: one sample of each CPU taken
    at (nearly) the same time. A moment whose samples spread over more than
    half the gap between moments is left out and counted: a CPU's sample
    came late (a virtual CPU the host did not run, an interrupt held off).
    Stop, as bcc's tool does at the first, when that stops being rare
    (over 10%: a busy virtual machine has a few)."""

    def __init__(self):
        self.pending = []
        self.seen = self.skewed = 0

    def add(self, sample):
        self.pending.append((sample.ts, sample.cpu, sample.len))

    def complete(self):
        """The moments whose samples are all in, oldest first (the last one
        may still be growing: it stays for the next call)."""
        self.pending.sort()
        done, current = [], []
        for s in self.pending:
            if current and s[0] - current[0][0] > TRIGGER_NS:
                done.append(current)
                current = []
            current.append(s)
        self.pending = current
        good = []
        for moment in done:
            self.seen += 1
            spread = moment[-1][0] - moment[0][0]
            if spread <= TRIGGER_NS / 2:
                good.append(moment)
                continue
            self.skewed += 1
            if self.seen >= 100 and self.skewed > self.seen / 10:
                fail(("ERROR: CPU samples arrived at skewed offsets (CPUs may have powered "
                      "down when idle), spanning %d ns (expected < %d ns) in %d of %d "
                      "samples. Debug with -J, and see the man page. As output may begin "
                      "to be unreliable, exiting.") % (spread, TRIGGER_NS / 2, self.skewed,
                                                       self.seen))
        return good


def moment_stats(moment, ncpu):
    """(CPUs running, CPUs idle, tasks that an idle CPU could have run)."""
    running = sum(1 for _, _, n in moment if n > 0)
    queued = sum(n - 1 for _, _, n in moment if n > 1)
    idle = ncpu - running
    return running, idle, min(idle, queued) if idle > 0 and queued > 0 else 0


class Summary:
    """bcc's "%CPU ..., unclaimed idle ...%" over the moments of an interval."""

    def __init__(self, ncpu, args):
        self.ncpu, self.args = ncpu, args
        self.running = self.idle = self.unclaimed = 0

    def add(self, moment):
        running, idle, unclaimed = moment_stats(moment, self.ncpu)
        self.running += running
        self.idle += idle
        self.unclaimed += unclaimed

    def write(self):
        total = self.running + self.idle
        util = 100.0 * self.running / total if total else 0.0
        unclaimed = 100.0 * self.unclaimed / total if total else 0.0
        if self.args.json:
            write_json({"ts": round(time.time(), 6), "cpu_pct": round(util, 2),
                        "unclaimed_idle_pct": round(unclaimed, 2)})
        else:
            stamp = "%-8s " % time.strftime("%H:%M:%S") if self.args.timestamp else ""
            print("%s%%CPU %6.2f%%, unclaimed idle %0.2f%%" % (stamp, util, unclaimed))
        self.running = self.idle = self.unclaimed = 0


class Csv:
    """-j/-J: one line per moment, each CPU's run queue length (and offset)."""

    def __init__(self, ncpu, args):
        self.ncpu, self.args = ncpu, args

    def header(self):
        if self.args.json:
            return
        cols = (["TIME"] if self.args.timestamp else []) + ["TIMESTAMP_ns"] + \
            ["CPU%d" % c for c in range(self.ncpu)]
        if self.args.fullcsv:
            cols += ["OFFSET_ns_CPU%d" % c for c in range(self.ncpu)]
        print(",".join(cols))

    def add(self, moment):
        first = moment[0][0]
        lens, offsets = [0] * self.ncpu, [0] * self.ncpu
        for ts, cpu, n in moment:
            if cpu < self.ncpu:
                lens[cpu], offsets[cpu] = n, ts - first
        if self.args.json:
            row = {"timestamp_ns": first, "lens": lens}
            if self.args.fullcsv:
                row["offsets_ns"] = offsets
            write_json(row)
            return
        cols = ([time.strftime("%H:%M:%S")] if self.args.timestamp else []) + [str(first)] + \
            [str(n) for n in lens] + ([str(o) for o in offsets] if self.args.fullcsv else [])
        print(",".join(cols))

    def write(self):
        pass


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    ncpu = os.cpu_count() or 1
    interval = CSV_INTERVAL if args.csv else (args.interval or 1)
    moments = Moments()
    out = Csv(ncpu, args) if args.csv else Summary(ncpu, args)
    with Tool("cpuunclaimed", events=True) as tool:
        tool.attach("do_sample", ev_type=PERF_TYPE_SOFTWARE, ev_config=PERF_COUNT_SW_CPU_CLOCK,
                    sample_period=PERIOD_NS)
        decode = tool.record("event").decode
        tool.open_events(lambda data: moments.add(decode(data)))
        if args.csv:
            out.header()
        else:
            status("Sampling run queues... Output every %g seconds. Hit Ctrl-C to end." %
                   interval, args.json)
        outputs = 0
        try:
            take_interrupts()
            while outputs < args.count:
                deadline = time.monotonic() + interval
                while time.monotonic() < deadline:
                    tool.poll(int(max(1, min(100, (deadline - time.monotonic()) * 1000))))
                for moment in moments.complete():
                    out.add(moment)
                out.write()
                sys.stdout.flush()
                outputs += 1
        except KeyboardInterrupt:
            for moment in moments.complete():
                out.add(moment)
            out.write()
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
