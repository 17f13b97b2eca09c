"""pidpersec: count new processes (via fork) per second, as bcc's tool prints them."""
import sys
import time

from .lib.args import add_duration_and_json, pid, tool_parser
from .lib.report import report_loop
from .lib.runtime import Tool, run_tool, status

EXAMPLES = """examples:
    ./pidpersec           # count new processes and threads each second
    ./pidpersec -p 181    # only those PID 181 creates (pybcc extension)

Counts every new task, threads included, as bcc's sched_fork kprobe does.
"""


def parse_args(argv):
    p = tool_parser("pidpersec", "Count new processes (via fork).", EXAMPLES)
    p.add_argument("-p", "--pid", type=pid,
                   help="only count tasks created by this PID (pybcc extension)")
    add_duration_and_json(p, "stop after this many seconds (pybcc extension)")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    constants = {"targ_pid": args.pid} if args.pid else {}

    def report(json):
        count = sum(v for _, v in tool.maps["forks"].pop_all())
        if json:
            return {"pids_per_sec": count}
        return "%s: PIDs/sec: %d\n" % (time.strftime("%H:%M:%S"), count)

    with Tool("pidpersec", constants) as tool:
        tool.attach("process_fork")
        status("Tracing... Ctrl-C to end.", args.json)
        report_loop(report, 1, duration=args.duration, json=args.json, blank_line=False)
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
