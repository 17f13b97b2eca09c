"""bitesize: block I/O size histogram per process name (bcc's output; bcc's
tool takes no options: interval, count and -T are libbpf-tools')."""
import sys

from ..output.histogram import collect_sections, sections_json, sections_text
from .lib.args import add_duration, add_interval_count, add_json, tool_parser
from .lib.report import report_loop
from .lib.runtime import Tool, run_tool, status

EXAMPLES = """examples:
    ./bitesize              # block I/O size histograms per process name, at Ctrl-C
    ./bitesize -T 1 10      # print 1 second summaries with timestamps, 10 times
    ./bitesize --json 1     # NDJSON, one object per 1s interval (pybcc)
"""


def parse_args(argv):
    p = tool_parser("bitesize", "Summarize block device I/O size as a histogram "
                                "per process name; Ctrl-C prints it and exits", EXAMPLES)
    p.add_argument("-T", "--timestamp", action="store_true", help="include timestamp on output")
    add_interval_count(p)
    add_duration(p)
    add_json(p)
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)

    def report(json):
        hists = collect_sections(tool.maps["hists"], lambda k: k.comm)
        return sections_json(hists, "Kbytes", "comm") if json else \
            sections_text(hists, "Kbytes", "Process Name")

    with Tool("bitesize") as tool:
        tool.attach("rq_issue")
        status("Tracing block I/O... Hit Ctrl-C to end.", args.json)
        # bcc prints the histograms right under ^C, without a blank line
        report_loop(report, args.interval, args.count, args.duration, args.json, args.timestamp,
                    blank_line=False)
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
