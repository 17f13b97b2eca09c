"""numamove: NUMA misplaced page migrations per second and their time
(libbpf-tools' tool)."""
import os
import sys
from time import strftime

from ..errors import BPFError, NotSupportedError
from ..output.table import Column, Table
from .lib.args import add_interval_count, add_json, tool_parser
from .lib.report import report_loop
from .lib.runtime import Tool, run_tool

EXAMPLES = """examples:
    numamove              # Show page migrations' count and latency
    numamove --json 1 5   # NDJSON, 5 one-second reports (pybcc)

Source: fentry/fexit (else kprobes) on migrate_misplaced_folio()/_page() as
libbpf-tools. Without them, the migrate:mm_migrate_pages_start and
mm_migrate_pages tracepoints for reason MR_NUMA_MISPLACED: the time is that of
the migrate_pages() call inside, and a folio that could not be isolated is
not counted. On a machine with one NUMA node there are no such migrations.
"""
FUNCTIONS = ("migrate_misplaced_folio", "migrate_misplaced_page")
STAT_NUM, STAT_LATENCY_MS = 0, 1

TABLE = Table([
    Column("TIME", "%-10s ", lambda r: strftime("%H:%M:%S")),
    Column("NUMA_migrations", "%18d ", lambda r: r[0], head="%18s ", key="numa_migrations"),
    Column("NUMA_migrations_ms", "%18d", lambda r: r[1], key="numa_migrations_ms"),
])


def parse_args(argv):
    p = tool_parser("numamove", "Show page migrations of type NUMA misplaced per second.",
                    EXAMPLES)
    add_interval_count(p, interval=1)
    add_json(p)
    return p.parse_args(argv)


def attach(tool):
    """libbpf-tools' order (fentry, then kprobes, folio before page), then
    the tracepoints. A pair is attached once both its programs load."""
    for enter, leave in (("folio_fentry", "folio_fexit"), ("page_fentry", "page_fexit")):
        try:
            tool.coll.load_program(enter)
            tool.coll.load_program(leave)
        except BPFError:
            continue        # no fentry here, or no such function
        tool.attach(enter)
        tool.attach(leave)
        return
    for func in FUNCTIONS:
        try:
            tool.attach("misplaced_kprobe", func)
        except BPFError:
            continue
        tool.attach("misplaced_kretprobe", func)
        return
    try:
        tool.attach("pages_start")
        tool.attach("pages_done")
    except BPFError as e:
        raise NotSupportedError("numamove needs fentry or kprobes on migrate_misplaced_folio() "
                                f"or the migrate tracepoints ({e})") from None


def numa_nodes():
    try:
        return len([d for d in os.listdir("/sys/devices/system/node") if d.startswith("node")])
    except OSError:
        return 1


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if numa_nodes() < 2:
        print("numamove: this machine has one NUMA node: no NUMA migrations will happen",
              file=sys.stderr)
    last = [0, 0]

    def report(json):
        now = [tool.maps["stats"][STAT_NUM], tool.maps["stats"][STAT_LATENCY_MS]]
        row = (now[0] - last[0], now[1] - last[1])
        last[:] = now
        return TABLE.as_dict(row) if json else TABLE.text(row) + "\n"

    with Tool("numamove") as tool:
        attach(tool)
        TABLE.json = args.json
        TABLE.print_header()
        report_loop(report, args.interval, args.count, None, args.json, blank_line=False)
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
