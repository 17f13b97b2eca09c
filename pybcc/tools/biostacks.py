"""biostacks: block I/O latency histograms by initiating kernel stack
(libbpf-tools' tool; bcc has none)."""
import sys

from ..errors import BPFError, NotSupportedError
from ..output.histogram import collect_sections, log2_buckets, log2_hist_text
from ..output.table import write_json
from .lib.args import add_json, positive_int, tool_parser
from .lib.disks import devt_split, disk_arg, disk_name
from .lib.runtime import Tool, run_tool, sleep_intervals, status
from .lib.stacks import StackPrinter, detach

EXAMPLES = """examples:
    biostacks              # trace block I/O with init stacks.
    biostacks 1            # trace for 1 seconds only
    biostacks -d sdc       # trace sdc only
    biostacks --json 5     # one JSON object at the end (pybcc)

The stack is the kernel's where the request is accounted (block_io_start,
Linux 6.5+; before, blk_account_io_start), below the tracing frames. Where
that function is inlined (6.1), where the request is inserted or issued.
"""
MISSING = ("needs the block:block_io_start/block_io_done tracepoints (Linux 6.5+), fentry "
           "or kprobes on blk_account_io_start/done, or the block_rq tracepoints; this kernel "
           "has none of them")


def parse_args(argv):
    p = tool_parser("biostacks", "Tracing block I/O with init stacks.", EXAMPLES)
    p.add_argument("-d", "--disk", type=disk_arg, help="Trace this disk only")
    p.add_argument("-m", "--milliseconds", action="store_true", help="Millisecond histogram")
    p.add_argument("duration", nargs="?", type=positive_int,
                   help="seconds to trace (default: until Ctrl-C)")
    add_json(p)
    return p.parse_args(argv)


def attach(tool):
    """Where accounting starts and ends: the block_io tracepoints, else
    fentry, else kprobes on the accounting functions (plus the merge kprobe,
    as libbpf-tools has), else the request's insertion or issue and its
    completion (kernels where blk_account_io_start is inlined, as 6.1)."""
    try:
        tool.attach_first("io_start_btf", "io_start_raw")
        tool.attach_first("io_done_btf", "io_done_raw")
        return
    except BPFError:
        detach(tool)
    try:
        tool.attach_first("account_start_fentry", "account_start_fentry2",
                          ("account_start_kprobe", "blk_account_io_start"),
                          ("account_start_kprobe", "__blk_account_io_start"))
    except BPFError:
        try:
            tool.attach_first("rq_insert_btf", "rq_insert_raw")
            tool.attach_first("rq_issue_btf", "rq_issue_raw")
        except BPFError:
            raise NotSupportedError(MISSING) from None
    try:
        tool.attach_first("account_done_fentry", "account_done_fentry2",
                          ("account_done_kprobe", "blk_account_io_done"),
                          ("account_done_kprobe", "__blk_account_io_done"),
                          "rq_complete_btf", "rq_complete_raw")
    except BPFError:
        raise NotSupportedError(MISSING) from None
    try:
        tool.attach("merge_bio_kprobe")
    except BPFError:
        pass    # no kprobes, or the function is inlined: merged bios keep the first stack


def disk_of(dev):
    return disk_name(*devt_split(dev)) or "Unknown"


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    constants = {"targ_ms": args.milliseconds, "user_stacks": False}
    if args.disk is not None:
        constants.update(filter_dev=True, targ_major=args.disk[0], targ_minor=args.disk[1])
    unit = "msecs" if args.milliseconds else "usecs"
    with Tool("biostacks", constants) as tool:
        attach(tool)
        status("Tracing block I/O with init stacks. Hit Ctrl-C to end.", args.json)
        for _ in sleep_intervals(args.duration or 99999999, 1):
            pass
        printer = StackPrinter(tool.maps["stack_traces"], user=False, skip_tracing=True)
        hists = collect_sections(tool.maps["hists"], lambda k: k.who)
        out = []
        for who in sorted(hists, key=lambda w: (w.comm, w.pid, w.dev, w.kstack)):
            frames = printer.kernel_frames(who.kstack) if who.kstack >= 0 else []
            if args.json:
                out.append({"comm": who.comm, "pid": who.pid, "disk": disk_of(who.dev),
                            "frames": [f.name for f in frames], "unit": unit,
                            "buckets": log2_buckets(hists[who])})
            else:
                sys.stdout.write("%-14.14s %-6d %-7s\n" % (who.comm, who.pid, disk_of(who.dev)))
                sys.stdout.write("".join(f.name + "\n" for f in frames))
                sys.stdout.write(log2_hist_text(hists[who], unit) + "\n")
        if args.json:
            write_json({"stacks": out})
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
