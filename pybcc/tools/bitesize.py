"""bitesize: block I/O size histogram per process name (bcc's output; bcc's
tool takes no options: -c, -p, -d, -T, interval and count are libbpf-tools')."""
import argparse
import sys

from ..output.histogram import collect_sections, sections_json, sections_text
from .lib.args import add_duration_and_json, add_interval_count, pid, tool_parser
from .lib.disks import disk_arg
from .lib.report import report_loop
from .lib.runtime import Tool, run_tool, status
from .lib.snoop import set_constants

COMM_LEN = 16   # the kernel's TASK_COMM_LEN, NUL included

EXAMPLES = """examples:
    ./bitesize              # block I/O size histograms per process name, at Ctrl-C
    ./bitesize -T 1 10      # print 1 second summaries with timestamps, 10 times
    ./bitesize -c fio       # trace processes whose name starts with fio only
    ./bitesize -p 185       # trace PID 185 only
    ./bitesize -d sdc       # trace sdc only
    ./bitesize --json 1     # NDJSON, one object per 1s interval (pybcc)
"""


def comm_prefix(text):
    if not 0 < len(text.encode()) < COMM_LEN:
        raise argparse.ArgumentTypeError(
            f"a process name has 1 to {COMM_LEN - 1} bytes, not {text!r}")
    return text


def parse_args(argv):
    p = tool_parser("bitesize", "Summarize block device I/O size as a histogram "
                                "per process name", EXAMPLES)
    p.add_argument("-T", "--timestamp", action="store_true", help="include timestamp on output")
    p.add_argument("-c", "--comm", type=comm_prefix,
                   help="trace processes whose name starts with COMM only")
    p.add_argument("-p", "--pid", type=pid, help="trace this PID only")
    p.add_argument("-d", "--disk", type=disk_arg, help="trace this disk only")
    add_interval_count(p)
    add_duration_and_json(p)
    return p.parse_args(argv)


def constants(args):
    """The BPF program's filters (bitesize.bpf.c) for parse_args' result."""
    out = set_constants(targ_tgid=args.pid, targ_comm=args.comm)
    if args.disk:
        major, minor = args.disk
        out.update(filter_dev=True, targ_dev=major << 20 | minor)   # the kernel's dev_t
    return out


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)

    def report(json):
        hists = collect_sections(tool.maps["hists"], lambda k: k.comm)
        return sections_json(hists, "Kbytes", "comm") if json else \
            sections_text(hists, "Kbytes", "Process Name")

    with Tool("bitesize", constants(args)) as tool:
        tool.attach("rq_issue")
        status("Tracing block I/O... Hit Ctrl-C to end.", args.json)
        # bcc prints the histograms right under ^C, without a blank line
        report_loop(report, args.interval, args.count, args.duration, args.json, args.timestamp,
                    blank_line=False)
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
