"""dirtop: file reads and writes by directory, top-like (bcc's columns)."""
import glob
import os
import sys

from ..output.table import Column, Table
from .lib.args import add_interval_count, add_json, tool_parser
from .lib.runtime import Tool, fail, status
from .lib.rwcalls import attach_rw
from .lib.top import add_top_args, rw_sort_key, top_loop

EXAMPLES = """examples:
    ./dirtop -d '/hdfs/uuid/*/yarn'       # directory I/O top, 1 second refresh
    ./dirtop -d '/hdfs/uuid/*/yarn' -C    # don't clear the screen
    ./dirtop -d '/hdfs/uuid/*/yarn' 5     # 5 second summaries
    ./dirtop -d '/hdfs/uuid/*/yarn' 5 10  # 5 second summaries, 10 times only
    ./dirtop -d '/hdfs/uuid/*/yarn,/hdfs/uuid/*/data' # Running dirtop on two set of directories
    ./dirtop -d '/tmp/*' -C --json 1 5    # NDJSON, one object per interval (pybcc)

Source: kprobes on vfs_read/vfs_write, as bcc, where the kernel has kprobes;
else the read/write syscall tracepoints (read, pread64, readv, preadv,
preadv2 and their write twins) with the file found from the fd through the
task's file table. A read or write counts under the highest of the -d
directories among the file's first 50 ancestors in its own file system (a
directory is matched by inode number, as bcc). With the tracepoints
(PYBCC_DEBUG=1 says which): R_Kb/W_Kb count the bytes transferred, not
requested; readv/writev are counted; sendfile/splice/io_uring are not.
Differs from bcc: up to 1024 directories (bcc: 15).
"""
MAX_DIRS = 1024


def columns(paths):
    """bcc's columns; a row is (key, counts) of the counts map."""
    return [
        Column("READS", "%-6d ", lambda r: r[1].reads),
        Column("WRITES", "%-6d ", lambda r: r[1].writes),
        Column("R_Kb", "%-8d ", lambda r: r[1].rbytes // 1024),
        Column("W_Kb", "%-8d ", lambda r: r[1].wbytes // 1024),
        Column("PATH", "%s", lambda r: paths.get(r[0].inode_id, "?")),
    ]


def watched_directories(patterns, json):
    """{inode number: path} of the directories the comma-separated globs name."""
    paths = {}
    for pattern in patterns.split(","):
        for path in glob.glob(pattern, recursive=True):
            if not os.path.isdir(path):
                continue
            ino = os.lstat(path).st_ino
            if ino in paths:
                status(f"Skipping {path} as already considered", json)
                continue
            if len(paths) == MAX_DIRS:
                status(f"{MAX_DIRS} directories limit reached", json)
                return paths
            paths[ino] = path
            status(f"Considering {path} with inode_id {ino}", json)
    if not paths:
        fail("Cannot find any valid directory")
    return paths


def parse_args(argv):
    p = tool_parser("dirtop", "File reads and writes by process", EXAMPLES)
    add_top_args(p)
    add_interval_count(p, interval=1)
    p.add_argument("-d", "--root-directories", required=True, dest="rootdirs",
                   help="select the directories to observe, separated by commas")
    add_json(p)
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    paths = watched_directories(args.rootdirs, args.json)
    constants = {"targ_tgid": args.pid} if args.pid else {}
    with Tool("dirtop", constants) as tool:
        for ino in paths:
            tool.maps["dirs"][ino] = 1
        attach_rw(tool)
        top_loop(tool.maps["counts"].pop_all, rw_sort_key(args.sort),
                 Table(columns(paths), json=args.json), args)
    return 0


if __name__ == "__main__":
    from .lib.runtime import run_tool
    sys.exit(run_tool(main, sys.argv[1:]))
