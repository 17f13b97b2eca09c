"""llcstat: summarize cache references and misses by PID (bcc's flags and
output). Needs the CPU's hardware cache counters (a PMU): virtual machines
often have none, and the tool says so."""
import sys

from ..errors import NotSupportedError
from ..kernel.uapi import (PERF_COUNT_HW_CACHE_MISSES, PERF_COUNT_HW_CACHE_REFERENCES,
                           PERF_TYPE_HARDWARE)
from ..output.table import write_json
from .lib.args import add_ebpf, positive_float, positive_int, tool_parser
from .lib.runtime import Tool, fail, run_tool, sleep, status, take_interrupts

NO_PMU = ("llcstat: this machine has no hardware cache counters (no PMU; a virtual "
          "machine?): cache references and misses cannot be counted")


def parse_args(argv):
    p = tool_parser("llcstat", "Summarize cache references and misses by PID")
    p.add_argument("-c", "--sample_period", type=positive_int, default=100,
                   help="Sample one in this many number of cache reference / miss events")
    p.add_argument("duration", nargs="?", default=10, type=positive_float,
                   help="Duration, in seconds, to run")
    p.add_argument("-t", "--tid", action="store_true",
                   help="Summarize cache references and misses by PID/TID")
    p.add_argument("--json", action="store_true",
                   help="print one JSON object per row, then the totals (pybcc extension)")
    add_ebpf(p, "llcstat")
    return p.parse_args(argv)


def rows(tool, per_thread):
    """[(pid, tid, name, cpu, references, misses)], as bcc lists them."""
    def key(k):
        return (k.pid, k.tid if per_thread else None, k.cpu, k.name)
    misses = {key(k): v for k, v in tool.maps["miss_count"].items()}
    return [(k.pid, k.tid, k.name.decode(errors="replace") if isinstance(k.name, bytes) else k.name,
             k.cpu, v, misses.get(key(k), 0)) for k, v in tool.maps["ref_count"].items()]


def hit_pct(refs, misses):
    # sampling can count more misses than references for a process
    return 100.0 * (refs - misses if refs >= misses else 0) / refs if refs else 0.0


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    with Tool("llcstat", {"per_thread": args.tid}) as tool:
        try:
            for prog, config in (("on_cache_miss", PERF_COUNT_HW_CACHE_MISSES),
                                 ("on_cache_ref", PERF_COUNT_HW_CACHE_REFERENCES)):
                tool.attach(prog, ev_type=PERF_TYPE_HARDWARE, ev_config=config,
                            sample_period=args.sample_period)
        except NotSupportedError:
            fail(NO_PMU)
        status("Running for {} seconds or hit Ctrl-C to end.".format(
            int(args.duration) if args.duration == int(args.duration) else args.duration),
            args.json)
        try:
            take_interrupts()
            sleep(args.duration)
        except KeyboardInterrupt:
            print()
        table = rows(tool, args.tid)
    report(table, args)
    return 0


def report(table, args):
    tot_ref = sum(r[4] for r in table)
    tot_miss = sum(r[5] for r in table)
    if args.json:
        for pid, tid, name, cpu, refs, misses in table:
            row = {"pid": pid, "name": name, "cpu": cpu, "reference": refs, "miss": misses,
                   "hit_pct": round(hit_pct(refs, misses), 2)}
            if args.tid:
                row["tid"] = tid
            write_json(row)
        write_json({"total_references": tot_ref, "total_misses": tot_miss,
                    "hit_rate_pct": round(hit_pct(tot_ref, tot_miss), 2)})
        return
    print("PID      " + ("TID      " if args.tid else "") +
          "NAME             CPU     REFERENCE         MISS    HIT%")
    for pid, tid, name, cpu, refs, misses in table:
        print("%-8d " % pid + ("%-8d " % tid if args.tid else "") +
              "%-16s %-4d %12d %12d %6.2f%%" % (name, cpu, refs, misses, hit_pct(refs, misses)))
    print("Total References: {} Total Misses: {} Hit Rate: {:.2f}%".format(
        tot_ref, tot_miss, hit_pct(tot_ref, tot_miss)))


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
