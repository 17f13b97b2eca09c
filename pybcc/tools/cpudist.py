"""cpudist: summarize on- and off-CPU time per task as a histogram (bcc's flags and output)."""
import sys

from ..output.histogram import (collect_sections, extension_text, sections_json,
                                sections_text, take_extension)
from .lib.args import add_duration_and_json, add_interval_count, pid, task_key, tool_parser
from .lib.report import report_loop
from .lib.runtime import Tool, run_tool, status

EXAMPLES = """examples:
    cpudist              # summarize on-CPU time as a histogram
    cpudist -O           # summarize off-CPU time as a histogram
    cpudist 1 10         # print 1 second summaries, 10 times
    cpudist -mT 1        # 1s summaries, milliseconds, and timestamps
    cpudist -P           # show each PID separately
    cpudist -p 185       # trace PID 185 only
    cpudist -I           # include CPU idle time
    cpudist -e           # show extension summary (average/total/count)
    cpudist --json 1 5   # NDJSON, one object per 1s interval (pybcc)
"""



def parse_args(argv):
    p = tool_parser("cpudist", "Summarize on- and off-CPU time per task as a histogram.",
                    EXAMPLES)
    p.add_argument("-O", "--offcpu", action="store_true", help="measure off-CPU time")
    p.add_argument("-T", "--timestamp", action="store_true", help="include timestamp on output")
    p.add_argument("-m", "--milliseconds", action="store_true", help="millisecond histogram")
    p.add_argument("-P", "--pids", action="store_true", help="print a histogram per process ID")
    p.add_argument("-L", "--tids", action="store_true", help="print a histogram per thread ID")
    p.add_argument("-p", "--pid", type=pid, help="trace this PID only")
    p.add_argument("-I", "--include-idle", action="store_true", help="include CPU idle time")
    p.add_argument("-e", "--extension", action="store_true",
                   help="show extension summary (average/total/count)")
    add_interval_count(p)
    add_duration_and_json(p)
    return p.parse_args(argv)


def pid_to_comm(pid):
    # bcc keeps /proc's trailing newline, so a blank line follows the header
    try:
        with open("/proc/%d/comm" % pid) as f:
            return "%d %s" % (pid, f.read())
    except OSError:
        return str(pid)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    mode, header = task_key(args.tids, args.pids)
    constants = {"targ_offcpu": args.offcpu, "targ_ms": args.milliseconds,
                 "include_idle": args.include_idle, "key_mode": mode}
    if args.pid:
        constants["targ_tgid"] = args.pid
    label = "msecs" if args.milliseconds else "usecs"

    section = (lambda k: k.id) if header else None

    def report(json):
        hists = collect_sections(tool.maps["hists"], section)
        total, count = take_extension(tool.maps["extension"])
        if json:
            out = sections_json(hists, label, header)
            if args.extension:
                out["extension"] = {"total": total, "count": count}
            return out
        return sections_text(hists, label, header, pid_to_comm) + \
            (extension_text(total, count, label) if args.extension else "")

    with Tool("cpudist", constants) as tool:
        tool.attach_first("switch_btf", "switch_raw")
        status("Tracing %s-CPU time... Hit Ctrl-C to end." % ("off" if args.offcpu else "on"),
               args.json)
        report_loop(report, args.interval, args.count, args.duration, args.json, args.timestamp)
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
