"""biolatency: summarize block device I/O latency as a histogram (bcc's flags and output)."""
import argparse
import sys
import time

from ..output.histogram import collect_sections, print_extension_summary, print_sections
from .lib.runtime import Tool, fail, run_tool, sleep_intervals
from .lib.disks import disk_devt

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
"""



def parse_args(argv):
    p = argparse.ArgumentParser(description="Summarize block device I/O latency as a histogram",
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=EXAMPLES)
    p.add_argument("-T", "--timestamp", action="store_true", help="include timestamp on output")
    p.add_argument("-Q", "--queued", action="store_true", help="include OS queued time in I/O time")
    p.add_argument("-m", "--milliseconds", action="store_true", help="millisecond histogram")
    p.add_argument("-D", "--disks", action="store_true", help="print a histogram per disk device")
    p.add_argument("-F", "--flags", action="store_true", help="print a histogram per set of I/O flags")
    p.add_argument("-e", "--extension", action="store_true", help="summarize average/total value")
    p.add_argument("interval", nargs="?", default=99999999, type=int, help="output interval, in seconds")
    p.add_argument("count", nargs="?", default=99999999, type=int, help="number of outputs")
    p.add_argument("-j", "--json", action="store_true", help="json output")
    p.add_argument("-d", "--disk", type=str, help="Trace this disk only")
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
                 "per_disk": args.disks, "per_flag": args.flags}
    if args.disk is not None:
        devt = disk_devt(args.disk)
        if devt is None:
            fail("no such disk '%s'" % args.disk)
        constants.update(filter_dev=True, targ_major=devt[0], targ_minor=devt[1])
    label = "msecs" if args.milliseconds else "usecs"
    if args.disks:
        header, section = "disk", (lambda k: k.disk or "<unknown>")
    elif args.flags:
        header, section = "flags", (lambda k: k.flags)
    else:
        header, section = None, None

    with Tool("biolatency", constants) as tool:
        if args.queued:
            tool.attach_first("io_start_btf", "io_start_raw", "rq_insert_btf", "rq_insert_raw")
        tool.attach_first("rq_issue_btf", "rq_issue_raw")
        tool.attach_first("rq_complete_btf", "rq_complete_raw")
        if not args.json:
            print("Tracing block device I/O... Hit Ctrl-C to end.", flush=True)

        for last in sleep_intervals(args.interval, args.count):
            print()
            if args.timestamp:
                print("%-8s" % time.strftime("%H:%M:%S"))
            print_sections(collect_sections(tool.maps["hists"], section), label, header,
                        flags_text if args.flags else str, args.json)
            print_extension_summary(tool.maps["extension"], label,
                                    args.extension and not args.json)
            sys.stdout.flush()
            if last:
                break
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
