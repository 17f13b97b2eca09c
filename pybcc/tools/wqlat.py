"""wqlat: summarize workqueue request latency as histograms (bcc's output and flags)."""
import sys

from ..output.histogram import collect_sections, sections_json, sections_text
from .lib.args import add_duration_and_json, add_interval_count, tool_parser
from .lib.report import report_loop
from .lib.runtime import Tool, fail, run_tool, status

EXAMPLES = """examples:
    ./wqlat                   # summarize workqueue latency as a histogram
    ./wqlat 1 10              # print 1 second summaries, 10 times
    ./wqlat -W 1 10           # print 1 second, 10 times per workqueue
    ./wqlat -NT 1             # 1s summaries, nanoseconds, and timestamps
    ./wqlat -w nvmet_tcp_wq 1 # print 1 second summaries for workqueue nvmet_tcp_wq
"""

WQ_NAME_LEN = 24


def parse_args(argv):
    p = tool_parser("wqlat", "Summarize workqueue request latency as histograms.", EXAMPLES)
    p.add_argument("-T", "--timestamp", action="store_true", help="include timestamp on output")
    p.add_argument("-N", "--nanoseconds", action="store_true", help="output in nanoseconds")
    p.add_argument("-W", "--workqueues", action="store_true",
                   help="print a histogram per work queue")
    p.add_argument("-w", "--wqname", type=str, help="print this workqueue only")
    add_interval_count(p)
    add_duration_and_json(p)
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.wqname is not None and len(args.wqname.encode()) >= WQ_NAME_LEN:
        fail("workqueue name len must be less than %d" % WQ_NAME_LEN)
    label = "nsecs" if args.nanoseconds else "usecs"
    constants = {"factor": 1 if args.nanoseconds else 1000, "per_workqueue": args.workqueues}
    if args.wqname:
        constants["targ_wqname"] = args.wqname
    header = "wqname" if args.workqueues else None
    section = (lambda k: k.name) if header else None

    with Tool("wqlat", constants) as tool:
        tool.attach("queue_work")
        tool.attach("execute_start")
        status("Tracing work queue request latency time... Hit Ctrl-C to end.", args.json)

        def report(json):
            hists = collect_sections(tool.maps["hists"], section)
            return sections_json(hists, label, header) if json else \
                sections_text(hists, label, header)
        report_loop(report, args.interval, args.count, args.duration, args.json, args.timestamp)
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
