"""dcstat: directory entry cache (dcache) statistics (bcc's columns)."""
import sys
from time import strftime

from ..output.table import Column, Table
from .lib.args import add_interval_count, add_json, tool_parser
from .lib.dcache import lookup_fast_symbol, require_kprobes
from .lib.report import report_loop
from .lib.runtime import Tool

EXAMPLES = """examples:
    ./dcstat             # dcache statistics each second
    ./dcstat 5 3         # 5 second summaries, 3 times
    ./dcstat --json 1 5  # NDJSON, one object per interval (pybcc)

Source: kprobes, as bcc: lookup_fast() counts references (REFS, one per path
component), d_lookup()'s return slow lookups (SLOW) and, when NULL, misses
(MISS). The dcache has no tracepoints: without kprobes dcstat says so and
exits.
"""
STATS = ("REFS", "SLOW", "MISS")


def parse_args(argv):
    p = tool_parser("dcstat", "Directory entry cache (dcache) stats", EXAMPLES)
    add_interval_count(p, interval=1)
    add_json(p)
    return p.parse_args(argv)


def hit_pct(r):
    return 100.0 * (r["REFS"] - r["MISS"]) / r["REFS"] if r["REFS"] else None


COLUMNS = [Column("TIME", "%-8s: ", lambda r: strftime("%H:%M:%S"), head="%-8s  ")] + [
    Column(s + "/s", " %8d", lambda r, s=s: r[s + "/s"], key=s.lower()) for s in STATS] + [
    Column("HIT%", " %8s", lambda r: "%8.2f" % hit_pct(r) if r["REFS"] else "      -%",
           key="hit_pct", json=hit_pct)]


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    require_kprobes("dcstat")
    table = Table(COLUMNS, json=args.json)

    def report(json):
        totals = {s: sum(tool.maps["stats"][i]) for i, s in enumerate(STATS, 1)}
        tool.maps["stats"].clear()
        row = dict(totals, **{s + "/s": n // args.interval for s, n in totals.items()})
        return table.as_dict(row) if json else table.text(row) + "\n"

    with Tool("dcstat") as tool:
        tool.attach("count_fast", lookup_fast_symbol())
        tool.attach("count_lookup")
        table.print_header()
        report_loop(report, args.interval, args.count, None, args.json, blank_line=False,
                    report_at_interrupt=False)
    return 0


if __name__ == "__main__":
    from .lib.runtime import run_tool
    sys.exit(run_tool(main, sys.argv[1:]))
