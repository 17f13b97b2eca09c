"""slabratetop: kernel slab cache allocation rate, top-like (bcc's columns)."""
import sys

from ..output.table import Column, Table
from .lib.args import add_interval_count, add_json, positive_int, tool_parser
from .lib.runtime import Tool, run_tool
from .lib.top import run_top, top_report

EXAMPLES = """examples:
    ./slabratetop            # kmem_cache_alloc() top, 1 second refresh
    ./slabratetop -C         # don't clear the screen
    ./slabratetop 5          # 5 second summaries
    ./slabratetop 5 10       # 5 second summaries, 10 times only
    ./slabratetop --json 1 5 # NDJSON, one object per interval (pybcc)

Source: the kmem:kmem_cache_alloc tracepoint, whose arguments hold the cache
(its name and object size) since Linux 6.0, else bcc's kprobe on
kmem_cache_alloc(). Both count kmem_cache_alloc*() calls, not kmalloc().
"""
TABLE = Table([
    Column("CACHE", "%-32s ", lambda r: r[0].name, key="cache"),
    Column("ALLOCS", "%6d ", lambda r: r[1].count, key="allocs"),
    Column("BYTES", "%10d", lambda r: r[1].size, key="bytes"),
])


def parse_args(argv):
    p = tool_parser("slabratetop", "Kernel SLAB/SLUB memory cache allocation rate top", EXAMPLES)
    p.add_argument("-C", "--noclear", action="store_true", help="don't clear the screen")
    p.add_argument("-r", "--maxrows", default=20, type=positive_int,
                   help="maximum rows to print, default 20")
    add_interval_count(p, interval=1)
    add_json(p)
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)

    def report(json):
        rows = sorted(tool.maps["counts"].pop_all(), key=lambda r: -r[1].size)[:args.maxrows]
        return top_report(TABLE, rows, json, args.noclear)

    with Tool("slabratetop") as tool:
        tool.attach_first("cache_alloc_tp_btf", "cache_alloc_tp_raw", "cache_alloc_kprobe")
        run_top(report, args)
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
