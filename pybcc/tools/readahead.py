"""readahead: show the performance of the read-ahead cache (bcc's output)."""
import sys

from ..errors import BPFError, NotSupportedError
from ..kernel import features
from ..symbols.kallsyms import ksymname
from ..output.histogram import LOG2_SLOTS, log2_hist_text, sections_json
from .lib.args import add_json, positive_int, tool_parser
from .lib.report import FOREVER, report_loop
from .lib.runtime import Tool, status

MAX_SLOTS = 64      # readahead.bpf.c

EXAMPLES = """examples:
    ./readahead -d 20       # monitor for 20 seconds and generate stats
    ./readahead --json -d 5 # NDJSON: unused pages and the age histogram (pybcc)

Source: kprobes, as bcc, where the kernel has them: the readahead function's
entry and return (page_cache_ra_order, page_cache_ra_unbounded,
do_page_cache_ra or __do_page_cache_readahead) mark the thread, the page cache allocation's
return in it (filemap_alloc_folio(_noprof) or __page_cache_alloc) is a page
read ahead, and folio_mark_accessed/mark_page_accessed is its use. Without
kprobes: the readahead:page_cache_ra_unbounded/ra_order tracepoints give the
window being read ahead, filemap:mm_filemap_add_to_page_cache in it is a
folio read ahead (counted as its 2^order pages), and filemap:
mm_filemap_get_pages (read) and mm_filemap_map_pages (mmap fault-around)
touching a folio's first page are its use (PYBCC_DEBUG=1 says which source).
Differs from bcc without kprobes: a use is a read or mmap fault of the page
(not any mark_page_accessed), a folio is used when an access covers its first
page; -d stops after that many seconds (bcc prints every -d seconds).
"""


def kallsyms_has(func):
    return ksymname(func) != -1


def parse_args(argv):
    p = tool_parser("readahead", "Monitor performance of read ahead cache", EXAMPLES)
    p.add_argument("-d", "--duration", type=positive_int,
                   help="total duration to monitor for, in seconds")
    add_json(p)
    return p.parse_args(argv)


# page_cache_ra_unbounded before do_page_cache_ra: 5.10's ondemand_readahead
# has do_page_cache_ra inlined (its kprobe saw no readahead) and tail-calls
# page_cache_ra_unbounded, which allocates the pages
RA_FUNCTIONS = ("page_cache_ra_order", "page_cache_ra_unbounded", "do_page_cache_ra",
                "__do_page_cache_readahead")


def attach_kprobes(tool):
    # page_cache_ra_order first: on kernels with large folios it no longer
    # calls do_page_cache_ra, and where it does, it encloses it
    func = next(f for f in RA_FUNCTIONS if kallsyms_has(f))
    tool.attach("ra_entry", func)
    tool.attach("ra_return", func)
    tool.attach_first(*[("alloc_return", f) for f in ("filemap_alloc_folio_noprof",
                                                       "filemap_alloc_folio",
                                                       "__page_cache_alloc")])
    tool.attach_first(("mark_accessed", "folio_mark_accessed"),
                      ("mark_accessed", "mark_page_accessed"))


def attach_tracepoints(tool):
    tool.attach("ra_unbounded")
    try:
        tool.attach("ra_order")
    except BPFError:
        pass
    try:    # the _unrolled twin: a kernel without bpf_loop()
        tool.attach_first("map_pages", "map_pages_unrolled")
    except BPFError:
        pass
    tool.attach("add_to_page_cache")
    tool.attach_first("get_pages", "get_pages_unrolled")


def attach(tool):
    if features.has_kprobes():
        try:
            return attach_kprobes(tool)
        except (BPFError, StopIteration):
            for link in tool.links:
                link.close()
            tool.links.clear()
    try:
        attach_tracepoints(tool)
    except BPFError:
        raise NotSupportedError(
            "readahead needs kprobes (on page_cache_ra_order and the page cache allocation) "
            "or the readahead:page_cache_ra_unbounded and filemap tracepoints (recent kernels); "
            "this kernel has neither") from None


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)

    def report(json):
        unused = sum(tool.maps["pages"][0])
        hist = [0] * LOG2_SLOTS
        for slot in range(1, MAX_SLOTS):
            hist[slot] = sum(tool.maps["dist"][slot])
        if json:
            return {"unused_pages": unused, **sections_json({None: hist}, "ms")}
        return ("Read-ahead unused pages: %d\nHistogram of read-ahead used page age (ms):\n\n"
                % unused + log2_hist_text(hist, "age (ms)"))

    with Tool("readahead") as tool:
        attach(tool)
        status("Tracing... Hit Ctrl-C to end.", args.json)
        report_loop(report, FOREVER, 1, args.duration, args.json)
    return 0


if __name__ == "__main__":
    from .lib.runtime import run_tool
    sys.exit(run_tool(main, sys.argv[1:]))
