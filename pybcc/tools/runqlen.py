"""runqlen: summarize scheduler run queue length as a histogram (bcc's flags and output)."""
import sys

from ..kernel.uapi import PERF_COUNT_SW_CPU_CLOCK, PERF_TYPE_SOFTWARE
from ..output.histogram import linear_buckets, linear_hist_text, sections_json
from ..output.table import Column, Table
from .lib.args import add_duration_and_json, add_interval_count, tool_parser
from .lib.report import report_loop
from .lib.runtime import Tool, run_tool, status

EXAMPLES = """examples:
    ./runqlen            # summarize run queue length as a histogram
    ./runqlen 1 10       # print 1 second summaries, 10 times
    ./runqlen -T 1       # 1s summaries and timestamps
    ./runqlen -O         # report run queue occupancy
    ./runqlen -C         # show each CPU separately
    ./runqlen --json 1 5 # NDJSON, one object per 1s interval (pybcc)
"""

FREQUENCY = 99
MAX_SLOT = 1024   # runqlen.bpf.c: longer queues are counted in the last slot

# -O: the share of samples with tasks waiting, per CPU (-C) or overall
OCCUPANCY_PER_CPU = [Column("CPU", "runqocc, CPU %-3d ", lambda r: r[0]),
                     Column("runqocc", "%6.2f%%", lambda r: r[1])]
OCCUPANCY = [Column("runqocc", "runqocc: %0.2f%%", lambda r: r[1])]


def parse_args(argv):
    p = tool_parser("runqlen", "Summarize scheduler run queue length as a histogram", EXAMPLES)
    p.add_argument("-T", "--timestamp", action="store_true", help="include timestamp on output")
    p.add_argument("-O", "--runqocc", action="store_true", help="report run queue occupancy")
    p.add_argument("-C", "--cpus", action="store_true", help="print output for each CPU separately")
    add_interval_count(p)
    add_duration_and_json(p)
    return p.parse_args(argv)


def occupancy(vals):
    """Share of samples with tasks waiting (slot > 0)."""
    samples = sum(vals)
    return (samples - vals[0]) / samples if samples else 0.0


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    table = Table(OCCUPANCY_PER_CPU if args.cpus else OCCUPANCY, json=args.json)

    def report(json):
        per_cpu = {}
        for k, v in tool.maps["dist"].pop_all():
            cpu = k.cpu if args.cpus else None
            per_cpu.setdefault(cpu, [0] * (MAX_SLOT + 1))[k.slot] += v
        if args.runqocc:
            cpus = range(max(per_cpu, default=-1) + 1) if args.cpus else [None]
            rows = [(c, 100 * occupancy(per_cpu.get(c, [0]))) for c in cpus]
            if json:
                return {"unit": "percent", "rows": [table.as_dict(r) for r in rows]}
            return "".join(table.text(r) + "\n" for r in rows)
        if json:
            return sections_json(per_cpu, "tasks", "cpu" if args.cpus else None,
                                 buckets=linear_buckets)
        return "".join(("" if cpu is None else "\ncpu = %d\n" % cpu) +
                       linear_hist_text(per_cpu[cpu], "runqlen") for cpu in sorted(per_cpu))

    with Tool("runqlen") as tool:
        tool.attach("do_sample", ev_type=PERF_TYPE_SOFTWARE, ev_config=PERF_COUNT_SW_CPU_CLOCK,
                    sample_freq=FREQUENCY)
        status("Sampling run queue length... Hit Ctrl-C to end.", args.json)
        report_loop(report, args.interval, args.count, args.duration, args.json, args.timestamp)
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
