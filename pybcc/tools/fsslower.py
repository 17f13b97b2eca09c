"""fsslower: trace one file system's operations slower than a threshold
(libbpf-tools' fsslower -t TYPE; bcc's ext4slower, xfsslower, btrfsslower,
nfsslower, f2fsslower and zfsslower are this tool with their own flags and
output)."""
import sys
from time import strftime

from ..output.table import Column, Table
from .lib import fsops
from .lib.args import add_json, non_negative_int, pid, positive_int, tool_parser
from .lib.runtime import Tool, fail, run_tool, status
from .lib.snoop import print_events

EXAMPLES = """examples:
    ./fsslower -t ext4             # trace ext4 operations slower than 10 ms
    ./fsslower -t nfs -p 1216      # trace nfs operations with PID 1216 only
    ./fsslower -t xfs -c -d 1      # trace xfs operations for 1s with csv output
    ./fsslower -t btrfs -m 0 --json  # every btrfs operation, NDJSON (pybcc)

-t takes btrfs, ext4, fuse, nfs, xfs, f2fs, bcachefs, zfs, or (pybcc) any
other file system in /proc/filesystems (through the syscalls only).
"""

BCC_EXAMPLES = """examples:
    ./{name}             # trace operations slower than 10 ms (default)
    ./{name} 1           # trace operations slower than 1 ms
    ./{name} -{csv} 1        # ... 1 ms, parsable output (csv)
    ./{name} 0           # trace all operations (warning: verbose)
    ./{name} -p 185      # trace PID 185 only
"""

LLONG_MAX = (1 << 63) - 1
NFS_NOTE = ("\nDiffers from bcc: no COMMIT (C) rows (bcc times them from the "
            "nfs:nfs_initiate_commit/nfs_commit_done tracepoints).")
BCC_OPS = {"nfs": (fsops.READ, fsops.WRITE, fsops.OPEN, fsops.GETATTR)}
BCC_DEFAULT_OPS = (fsops.READ, fsops.WRITE, fsops.OPEN, fsops.FSYNC)
BCC_LETTERS = "RWOSG"        # bcc: S for fsync, nfsslower's G for getattr
LIBBPF_LETTERS = "RWOFG"     # libbpf-tools: F for fsync


def parse_args(argv, bcc_fs=None):
    """fsslower's flags, or (bcc_fs: a FileSystem) those of bcc's tool for it."""
    if bcc_fs is None:
        p = tool_parser("fsslower", "Trace file system operations slower than a threshold.",
                        EXAMPLES + "\n" + fsops.syscalls_note(BCC_DEFAULT_OPS))
        p.add_argument("-t", "--type", metavar="FS", required=True,
                       help="which file system to trace: btrfs/ext4/fuse/nfs/xfs/f2fs/bcachefs/zfs")
        p.add_argument("-p", "--pid", type=pid, help="process ID to trace")
        p.add_argument("-m", "--min", type=non_negative_int, default=10, dest="min_ms",
                       help="min latency to trace, in ms (default 10)")
        p.add_argument("-d", "--duration", type=positive_int,
                       help="total duration of trace in seconds")
        p.add_argument("-c", "--csv", action="store_true", help="output as csv")
    else:
        name = bcc_fs.name + "slower"
        csv_flag = "s" if bcc_fs.name == "f2fs" else "j"
        what = ("Trace READ, WRITE, OPEN and GETATTR NFS calls slower than a threshold, "
                "supports NFSv{3,4}" if bcc_fs.name == "nfs" else
                f"Trace common {bcc_fs.title} file operations slower than a threshold")
        p = tool_parser(name, what, BCC_EXAMPLES.format(name=name, csv=csv_flag) + "\n"
                        + fsops.syscalls_note(BCC_OPS.get(bcc_fs.name, BCC_DEFAULT_OPS))
                        + NFS_NOTE * (bcc_fs.name == "nfs"))
        p.add_argument("-" + csv_flag, "--csv", action="store_true",
                       help="just print fields: comma-separated values")
        p.add_argument("-p", "--pid", type=pid, help="trace this PID only")
        p.add_argument("min_ms", nargs="?", default=10, type=non_negative_int,
                       help="minimum I/O duration to trace, in ms (default 10)")
        duration = ("-d", "--duration") if bcc_fs.name == "btrfs" else ("--duration",)
        p.add_argument(*duration, type=positive_int, help="total duration of trace in seconds")
    add_json(p)
    args = p.parse_args(argv)
    args.fs = bcc_fs or fsops.lookup(args.type)
    if args.fs is None:
        p.error(f"invalid filesystem {args.type!r}: not one pybcc knows, nor in /proc/filesystems")
    return args


def bcc_columns(fs, csv):
    """bcc's <fs>slower columns (btrfsslower's PID is a column wider)."""
    def letter(e):
        return BCC_LETTERS[e.op]
    if csv:
        return [Column("ENDTIME_us", "%d,", lambda e: e.end_ns // 1000),
                Column("TASK", "%s,", "task"), Column("PID", "%d,", "pid"),
                Column("TYPE", "%s,", letter), Column("BYTES", "%d,", "size"),
                Column("OFFSET_b", "%d,", "offset"), Column("LATENCY_us", "%d,", "delta_us"),
                Column("FILE", "%s", "file")]
    return [Column("TIME", "%-8s ", lambda e: strftime("%H:%M:%S")),
            Column("COMM", "%-14.14s ", "task", head="%-14s "),
            Column("PID", "%-7s " if fs.name == "btrfs" else "%-6s ", "pid"),
            Column("T", "%1s ", letter),
            Column("BYTES", "%-7s ", "size"),
            Column("OFF_KB", "%-8d ", lambda e: e.offset // 1024, key="offset",
                   json=lambda e: e.offset),
            Column("LAT(ms)", "%7.2f ", lambda e: e.delta_us / 1000),
            Column("FILENAME", "%s", "file")]


def libbpf_columns(csv):
    """libbpf-tools' fsslower columns: fsync's size is its range (LL_MAX: the whole file)."""
    def letter(e):
        return LIBBPF_LETTERS[e.op]

    def size(e):
        return "LL_MAX" if e.size == LLONG_MAX else e.size
    if csv:
        return [Column("ENDTIME_ns", "%d,", "end_ns"), Column("TASK", "%s,", "task"),
                Column("PID", "%d,", "pid"), Column("TYPE", "%s,", letter),
                Column("BYTES", "%s,", size, json=lambda e: e.size),
                Column("OFFSET_b", "%d,", "offset"), Column("LATENCY_us", "%d,", "delta_us"),
                Column("FILE", "%s", "file")]
    return [Column("TIME", "%-8s ", lambda e: strftime("%H:%M:%S")),
            Column("COMM", "%-16s ", "task"), Column("PID", "%-7d ", "pid"),
            Column("T", "%1s ", letter),
            Column("BYTES", "%-7s ", size, json=lambda e: e.size),
            Column("OFF_KB", "%-8d ", lambda e: e.offset // 1024, key="offset",
                   json=lambda e: e.offset),
            Column("LAT(ms)", "%7.2f ", lambda e: e.delta_us / 1000),
            Column("FILENAME", "%s", "file")]


def bcc_banner(fs, min_ms):
    if fs.name == "nfs":
        return ("Tracing NFS operations... Ctrl-C to quit" if min_ms == 0 else
                f"Tracing NFS operations that are slower than {min_ms} ms... Ctrl-C to quit")
    return (f"Tracing {fs.title} operations" if min_ms == 0 else
            f"Tracing {fs.title} operations slower than {min_ms} ms")


def libbpf_banner(fs, min_ms, duration):
    head = f"Tracing {fs.name} operations" + (f" slower than {min_ms} ms" if min_ms else "")
    return head + (f" for {duration} secs." if duration else "... Hit Ctrl-C to end.")


def bcc_tool(fs_name):
    """The main() of bcc's tool for file system ``fs_name``."""
    return lambda argv=None: bcc_main(fs_name, argv)


def bcc_main(fs_name, argv=None):
    """bcc's <fs>slower (ext4slower, xfsslower, ...): its flags and output."""
    fs = fsops.FILESYSTEMS[fs_name]
    args = parse_args(sys.argv[1:] if argv is None else argv, fs)
    return trace(args, fs.name + "slower", BCC_OPS.get(fs.name, BCC_DEFAULT_OPS),
                 bcc_columns(fs, args.csv and not args.json),
                 None if args.csv else bcc_banner(fs, args.min_ms), fsync_range=False)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    return trace(args, "fsslower", BCC_DEFAULT_OPS, libbpf_columns(args.csv and not args.json),
                 None if args.csv else libbpf_banner(args.fs, args.min_ms, args.duration),
                 fsync_range=True)


def trace(args, name, ops, columns, banner, fsync_range):
    fs = args.fs
    missing = fsops.absence(fs)
    if missing:
        fail(f"{name}: {missing}")
    constants = {"min_ns": args.min_ms * 1000000, "fs_magic": fs.magic,
                 "fs_name": fs.name[:15], "fsync_range_size": fsync_range}
    constants.update(fsops.syscall_constants(ops))
    if args.pid:
        constants["targ_tgid"] = args.pid
    table = Table(columns, json=args.json)
    with Tool(fsops.object_name("fsslower", fs), constants, events=True) as tool:
        fsops.attach(tool, fs, ops)
        if banner:
            status(banner, args.json)
        print_events(tool, table, args.duration)
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
