"""biolatency: summarize block device I/O latency as a histogram (bcc's flags and output)."""
import sys

from ..output.histogram import (collect_sections, extension_text, log2_hist_dict,
                                sections_json, sections_text, take_extension)
from .lib.args import add_duration_and_json, add_interval_count, tool_parser
from .lib.cgroupfilter import cgroup_arg, cgroup_constants
from .lib.disks import disk_arg
from .lib.report import report_loop
from .lib.runtime import Tool, fail, run_tool, status

EXAMPLES = """examples:
    ./biolatency                    # summarize block I/O latency as a histogram
    ./biolatency 1 10               # print 1 second summaries, 10 times
    ./biolatency -mT 1              # 1s summaries, milliseconds, and timestamps
    ./biolatency -Q                 # include OS queued time in I/O time
    ./biolatency -D                 # show each disk device separately
    ./biolatency -F                 # show I/O flags separately
    ./biolatency -j                 # print a dictionary
    ./biolatency -e                 # show extension summary(total, average)
    ./biolatency -d sdc             # Trace sdc only
    ./biolatency -Q -c /sys/fs/cgroup/unified/CG   # I/O of that cgroup (libbpf-tools')
    ./biolatency --json 1 5         # NDJSON, one object per 1s interval (pybcc)
"""


def parse_args(argv):
    p = tool_parser("biolatency", "Summarize block device I/O latency as a histogram", EXAMPLES)
    p.add_argument("-T", "--timestamp", action="store_true", help="include timestamp on output")
    p.add_argument("-Q", "--queued", action="store_true", help="include OS queued time in I/O time")
    p.add_argument("-m", "--milliseconds", action="store_true", help="millisecond histogram")
    p.add_argument("-D", "--disks", action="store_true", help="print a histogram per disk device")
    p.add_argument("-F", "--flags", action="store_true", help="print a histogram per set of I/O flags")
    p.add_argument("-e", "--extension", action="store_true", help="summarize average/total value")
    add_interval_count(p)
    # bcc's -j prints each histogram as a Python dict (not JSON); --json is NDJSON
    p.add_argument("-j", dest="dict", action="store_true",
                   help="print a dictionary per histogram (bcc's -j; for JSON use --json)")
    p.add_argument("-d", "--disk", type=disk_arg, help="Trace this disk only")
    p.add_argument("-c", "--cgroup", type=cgroup_arg, metavar="CG",
                   help="Trace process in cgroup path (cgroup v2; libbpf-tools'; "
                        "with -Q the creating process, else the issuing one)")
    add_duration_and_json(p)
    return p.parse_args(argv)


# The op and flag bits of cmd_flags, as blk_fill_rwbs() reads them.
REQ_OPS = {0: "Read", 1: "Write", 2: "Flush", 3: "Discard", 5: "SecureErase",
           6: "ZoneReset", 7: "WriteSame", 9: "WriteZeros"}
REQ_OP_BITS = 8
REQ_FLAG_NAMES = [   # (bit, prefix), applied in this order: the last ends up first
    (3, "Sync"), (4, "Metadata"), (9, "ForcedUnitAccess"), (5, "Priority"),
    (6, "NoMerge"), (7, "Idle"), (11, "ReadAhead"), (12, "Background"), (13, "NoWait"),
]


def flags_text(flags):
    desc = REQ_OPS.get(flags & ((1 << REQ_OP_BITS) - 1), "Unknown")
    for bit, name in REQ_FLAG_NAMES:
        if flags & (1 << (REQ_OP_BITS + bit)):
            desc = name + "-" + desc
    return desc


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.flags and args.disks:
        fail("ERROR: can only use -D or -F. Exiting.")
    constants = {"targ_queued": args.queued, "targ_ms": args.milliseconds,
                 "per_disk": args.disks, "per_flag": args.flags, **cgroup_constants(args.cgroup)}
    if args.disk is not None:
        constants.update(filter_dev=True, targ_major=args.disk[0], targ_minor=args.disk[1])
    label = "msecs" if args.milliseconds else "usecs"
    shown = str
    if args.disks:
        header, section = "disk", (lambda k: k.disk or "<unknown>")
    elif args.flags:
        header, section, shown = "flags", (lambda k: k.flags), flags_text
    else:
        header, section = None, None

    def report(json):
        hists = collect_sections(tool.maps["hists"], section)
        total, count = take_extension(tool.maps["extension"])
        if json:
            out = sections_json(hists, label, header, shown)
            if args.extension:
                out["extension"] = {"total": total, "count": count}
            return out
        if args.dict:
            return "".join("%s\n" % log2_hist_dict(hists[sec], label,
                                                    (header, shown(sec)) if header else None)
                           for sec in sorted(hists))
        return sections_text(hists, label, header, shown) + \
            (extension_text(total, count, label) if args.extension else "")

    with Tool("biolatency", constants) as tool:
        if args.queued:
            tool.attach_first("io_start_btf", "io_start_raw", "rq_insert_btf", "rq_insert_raw")
        tool.attach_first("rq_issue_btf", "rq_issue_raw")
        tool.attach_first("rq_complete_btf", "rq_complete_raw")
        if not args.dict:
            status("Tracing block device I/O... Hit Ctrl-C to end.", args.json)
        report_loop(report, args.interval, args.count, args.duration, args.json, args.timestamp)
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
