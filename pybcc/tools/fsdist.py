"""fsdist: summarize one file system's operation latency as histograms
(libbpf-tools' fsdist -t TYPE; bcc's ext4dist, xfsdist, btrfsdist, nfsdist and
zfsdist are this tool with their own flags and output)."""
import sys
import time

from ..output.histogram import collect_sections, log2_hist_text, sections_json, sections_text
from .lib import fsops
from .lib.args import add_duration_and_json, add_interval_count, pid, tool_parser
from .lib.report import FOREVER, report_loop
from .lib.runtime import Tool, fail, run_tool, status

EXAMPLES = """examples:
    ./fsdist -t ext4             # show ext4 operations latency as a histogram
    ./fsdist -t nfs -p 1216      # trace nfs operations with PID 1216 only
    ./fsdist -t xfs 1 10         # trace xfs operations, 1s summaries, 10 times
    ./fsdist -t btrfs -m 5       # trace btrfs operation, 5s summaries, in ms
    ./fsdist -t ext4 --json 1    # NDJSON, one object per second (pybcc)

-t takes btrfs, ext4, fuse, nfs, xfs, f2fs, bcachefs, zfs, or (pybcc) any
other file system in /proc/filesystems (through the syscalls only).
"""

BCC_EXAMPLES = """examples:
    ./{name}            # show operation latency as a histogram
    ./{name} -p 181     # trace PID 181 only
    ./{name} 1 10       # print 1 second summaries, 10 times
    ./{name} -m 5       # 5s summaries, milliseconds
"""

# the operations bcc's tool of each file system times
BCC_OPS = {"nfs": (fsops.READ, fsops.WRITE, fsops.OPEN, fsops.GETATTR)}
BCC_DEFAULT_OPS = (fsops.READ, fsops.WRITE, fsops.OPEN, fsops.FSYNC)
FSDIST_OPS = BCC_DEFAULT_OPS + (fsops.GETATTR,)   # getattr where the file system has one


def parse_args(argv, bcc_fs=None):
    """fsdist's flags, or (bcc_fs: a FileSystem) those of bcc's tool for it."""
    if bcc_fs is None:
        p = tool_parser("fsdist", "Summarize file system operations latency.", EXAMPLES
                        + "\n" + fsops.syscalls_note(FSDIST_OPS))
        p.add_argument("-t", "--type", metavar="FS", required=True,
                       help="which file system to trace: btrfs/ext4/fuse/nfs/xfs/f2fs/bcachefs/zfs")
        p.add_argument("-T", "--timestamp", action="store_true", help="print timestamp")
        p.add_argument("-m", "--milliseconds", action="store_true", help="millisecond histogram")
        p.add_argument("-p", "--pid", type=pid, help="process ID to trace")
    else:
        name = bcc_fs.name + "dist"
        p = tool_parser(name, f"Summarize {bcc_fs.title} operation latency",
                        BCC_EXAMPLES.format(name=name) + "\n"
                        + fsops.syscalls_note(BCC_OPS.get(bcc_fs.name, BCC_DEFAULT_OPS)))
        p.add_argument("-T", "--notimestamp", action="store_true",
                       help="don't include timestamp on interval output")
        p.add_argument("-m", "--milliseconds", action="store_true", help="output in milliseconds")
        p.add_argument("-p", "--pid", type=pid, help="trace this PID only")
    add_interval_count(p)
    add_duration_and_json(p)
    args = p.parse_args(argv)
    if bcc_fs is None:
        fs = fsops.lookup(args.type)
        if fs is None:
            p.error(f"invalid filesystem {args.type!r}: not one pybcc knows, nor in /proc/filesystems")
        args.fs = fs
    else:
        args.fs = bcc_fs
    return args


def bcc_tool(fs_name):
    """The main() of bcc's tool for file system ``fs_name``."""
    return lambda argv=None: bcc_main(fs_name, argv)


def bcc_main(fs_name, argv=None):
    """bcc's <fs>dist (ext4dist, xfsdist, ...): its flags and output."""
    fs = fsops.FILESYSTEMS[fs_name]
    args = parse_args(sys.argv[1:] if argv is None else argv, fs)
    return trace(args, BCC_OPS.get(fs.name, BCC_DEFAULT_OPS), bcc_style=True)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    fs = args.fs
    ops = [op for op in FSDIST_OPS
           if op != fsops.GETATTR or op in fs.functions or not fs.functions]
    return trace(args, ops, bcc_style=False)


def trace(args, ops, bcc_style):
    fs = args.fs
    missing = fsops.absence(fs)
    if missing:
        fail(f"{fs.name + 'dist' if bcc_style else 'fsdist'}: {missing}")
    constants = {"targ_ms": args.milliseconds, "fs_magic": fs.magic,
                 "fs_name": fs.name[:15]}
    constants.update(fsops.syscall_constants(ops))
    if args.pid:
        constants["targ_tgid"] = args.pid
    label = "msecs" if args.milliseconds else "usecs"
    interval_given = args.interval < FOREVER
    with Tool(fsops.object_name("fsdist", fs), constants) as tool:
        fsops.attach(tool, fs, ops)
        status(f"Tracing {fs.title if bcc_style else fs.name} operation latency... "
               "Hit Ctrl-C to end.", args.json)

        def report(json):
            hists = collect_sections(tool.maps["hists"], lambda k: k.op)
            if json:
                return sections_json(hists, label, "operation", lambda op: fsops.OP_NAMES[op])
            if bcc_style:
                stamp = time.strftime("%H:%M:%S:\n") if interval_given and not args.notimestamp \
                    else ""
                return stamp + sections_text(hists, label, "operation",
                                             lambda op: "'%s'" % fsops.OP_NAMES[op])
            stamp = "%-8s\n" % time.strftime("%H:%M:%S") if args.timestamp else ""
            return stamp + "".join("operation = '%s'\n%s\n" % (fsops.OP_NAMES[op],
                                                              log2_hist_text(hists[op], label))
                                   for op in sorted(hists))
        report_loop(report, args.interval, args.count, args.duration, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
