"""cachestat: page cache hits, misses and dirtyings per interval (bcc's columns)."""
import sys
import time

from ..output.table import Column, Table
from .lib.args import add_interval_count, add_json, tool_parser
from .lib.pagecache import attach_counters, hits_misses, meminfo_mb
from .lib.report import report_loop
from .lib.runtime import Tool, run_tool, status

EXAMPLES = """examples:
    ./cachestat             # run with default option of 1 second delay
    ./cachestat -T          # include timestamps
    ./cachestat 1 10        # print 1 second summaries, 10 times
    ./cachestat --json 1 5  # NDJSON, one object per interval (pybcc)

Source: the filemap and writeback tracepoints where the kernel has
mm_filemap_get_pages (Linux 6.10+), counted in pages: HITS+MISSES are the pages
read() takes from the page cache and mmap faults, MISSES the pages added to it
less those dirtied, and DIRTIES the pages dirtied (writeback_dirty_folio), as
there is no tracepoint for bcc's mark_buffer_dirty count. A read that waits
for readahead is counted again. On older kernels, bcc's kprobes (calls of
filemap_add_folio, folio_mark_accessed, folio_account_dirtied,
mark_buffer_dirty): since 5.18 read() marks one folio per batch accessed, so
that most hits show as misses there, as with bcc.
"""


def parse_args(argv):
    p = tool_parser("cachestat", "Count cache kernel function calls", EXAMPLES)
    p.add_argument("-T", "--timestamp", action="store_true", help="include timestamp on output")
    add_interval_count(p, interval=1)
    add_json(p)
    return p.parse_args(argv)


def columns(timestamp):
    return [
        Column("TIME", "%-8s ", lambda r: time.strftime("%H:%M:%S")) if timestamp else None,
        Column("HITS", "%8d ", "hits"),
        Column("MISSES", "%8d ", "misses"),
        Column("DIRTIES", "%8d ", "dirties"),
        Column("HITRATIO", "%7.2f%% ", lambda r: 100 * r.ratio, head="%8s ", key="hitratio"),
        Column("BUFFERS_MB", "%12.0f ", "buffers_mb"),
        Column("CACHED_MB", "%10.0f", "cached_mb"),
    ]


class Row:
    def __init__(self, counts, mechanism):
        self.hits, self.misses, self.dirties, self.ratio = hits_misses(counts, mechanism)
        self.buffers_mb, self.cached_mb = meminfo_mb()


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    table = Table(columns(args.timestamp), json=args.json)

    def report(json):
        counts = {k.nf: v for k, v in tool.maps["counts"].pop_all()}
        row = Row(counts, mechanism)
        return table.as_dict(row) if json else table.text(row) + "\n"

    with Tool("cachestat") as tool:
        mechanism = attach_counters(tool)
        table.print_header()
        report_loop(report, args.interval, args.count, None, args.json, blank_line=False)
        status("Detaching...", args.json)
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
