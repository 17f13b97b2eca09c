"""runqlat: summarize run queue (scheduler) latency as a histogram (bcc's flags and output)."""
import sys

from ..output.histogram import collect_sections, sections_json, sections_text
from .lib.args import add_duration_and_json, add_interval_count, pid, task_key, tool_parser
from .lib.heatmaps import HistogramTap, add_heatmap_arg, command_line
from .lib.outfile import check_writable
from .lib.report import report_loop
from .lib.runtime import Tool, run_tool, status

EXAMPLES = """examples:
    ./runqlat            # summarize run queue latency as a histogram
    ./runqlat 1 10       # print 1 second summaries, 10 times
    ./runqlat -mT 1      # 1s summaries, milliseconds, and timestamps
    ./runqlat -P         # show each PID separately
    ./runqlat -p 185     # trace PID 185 only
    ./runqlat --heatmap rq.svg 10  # 10 s, and a latency heat map (1 s columns)
"""



def parse_args(argv):
    p = tool_parser("runqlat", "Summarize run queue (scheduler) latency as a histogram", EXAMPLES)
    p.add_argument("-T", "--timestamp", action="store_true", help="include timestamp on output")
    p.add_argument("-m", "--milliseconds", action="store_true", help="millisecond histogram")
    p.add_argument("-P", "--pids", action="store_true", help="print a histogram per process ID")
    p.add_argument("--pidnss", action="store_true", help="print a histogram per PID namespace")
    p.add_argument("-L", "--tids", action="store_true", help="print a histogram per thread ID")
    p.add_argument("-p", "--pid", type=pid, help="trace this PID only")
    add_interval_count(p)
    add_duration_and_json(p)
    add_heatmap_arg(p)
    return p.parse_args(argv)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    if args.heatmap:
        check_writable(args.heatmap, "runqlat")
    mode, header = task_key(args.tids, args.pids, args.pidnss)
    constants = {"targ_ms": args.milliseconds, "key_mode": mode}
    if args.pid:
        constants["targ_tgid"] = args.pid
    label = "msecs" if args.milliseconds else "usecs"

    with Tool("runqlat", constants) as tool:
        tool.attach_first("wakeup_btf", "wakeup_raw")
        tool.attach_first("wakeup_new_btf", "wakeup_new_raw")
        tool.attach_first("switch_btf", "switch_raw")
        status("Tracing run queue latency... Hit Ctrl-C to end.", args.json)
        section = (lambda k: k.id) if header else None
        tap = HistogramTap(tool.maps["hists"], label, "run queue waits", section) \
            if args.heatmap else None

        def report(json):
            hists = tap.take() if tap else collect_sections(tool.maps["hists"], section)
            return sections_json(hists, label, header) if json else \
                sections_text(hists, label, header)
        report_loop(report, args.interval, args.count, args.duration, args.json, args.timestamp)
        if tap:
            tap.finish(args.heatmap, "Run Queue Latency Heat Map", command_line("runqlat", argv))
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
