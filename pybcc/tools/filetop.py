"""filetop: file reads and writes by thread, top-like (bcc's columns)."""
import os
import sys

from ..output.table import Column, Table
from .lib.args import add_interval_count, add_json, tool_parser
from .lib.runtime import Tool, fail, status
from .lib.rwcalls import attach_rw, dentry_name
from .lib.snoop import set_constants
from .lib.top import add_top_args, rw_sort_key, top_loop

EXAMPLES = """examples:
    ./filetop                 # file I/O top, 1 second refresh
    ./filetop -C              # don't clear the screen
    ./filetop -p 181          # PID 181 only
    ./filetop -d /home/user   # trace files in /home/user directory only
    ./filetop 5               # 5 second summaries
    ./filetop 5 10            # 5 second summaries, 10 times only
    ./filetop 5 --read-only   # 5 second summaries, only read operations traced
    ./filetop 5 --write-only  # 5 second summaries, only write operations traced
    ./filetop -C --json 1 5   # NDJSON, one object per interval (pybcc)

Source: kprobes on vfs_read/vfs_write, as bcc, where the kernel has kprobes;
else the read/write syscall tracepoints (read, pread64, readv, preadv,
preadv2 and their write twins) with the file found from the fd through the
task's file table. With the tracepoints (PYBCC_DEBUG=1 says which): R_Kb/W_Kb
count the bytes transferred (the syscall's result), where bcc counts the
bytes requested; readv/writev are counted (bcc's vfs_read does not see them);
I/O that does not pass through these syscalls (sendfile, splice,
copy_file_range, io_uring, the kernel's own reads such as exec's) is not.
FILE is the name's last component, cut to 32 bytes ("...").
"""

# a row is (key, value) of the counts map
COLUMNS = [
    Column("TID", "%-7d ", lambda r: r[0].pid),
    Column("COMM", "%-16s ", lambda r: r[0].comm),
    Column("READS", "%-6d ", lambda r: r[1].reads),
    Column("WRITES", "%-6d ", lambda r: r[1].writes),
    Column("R_Kb", "%-7d ", lambda r: r[1].rbytes // 1024),
    Column("W_Kb", "%-7d ", lambda r: r[1].wbytes // 1024),
    Column("T", "%1s ", lambda r: chr(r[0].type) if isinstance(r[0].type, int) else r[0].type),
    Column("FILE", "%s", lambda r: dentry_name(r[0].name, r[0].name_len)),
]


def parse_args(argv):
    p = tool_parser("filetop", "File reads and writes by process", EXAMPLES)
    p.add_argument("-a", "--all-files", action="store_true",
                   help="include non-regular file types (sockets, FIFOs, etc)")
    add_top_args(p)
    p.add_argument("--read-only", action="store_true", help="trace only reads")
    p.add_argument("--write-only", action="store_true", help="trace only writes")
    p.add_argument("-d", "--directory", help="trace this directory only")
    add_interval_count(p, interval=1)
    add_json(p)
    args = p.parse_args(argv)
    if args.read_only and args.write_only:
        p.error("--read-only and --write-only exclude each other")
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    constants = set_constants(all_files=args.all_files, targ_tgid=args.pid)
    if args.directory:
        try:
            constants["dir_ino"] = os.lstat(args.directory).st_ino
        except OSError as e:
            fail(f"Error accessing directory {args.directory}: {e.strerror}")
        status(f"Tracing directory: {args.directory} (Inode: {constants['dir_ino']})", args.json)
    with Tool("filetop", constants) as tool:
        attach_rw(tool, reads=not args.write_only, writes=not args.read_only)
        top_loop(tool.maps["counts"].pop_all, rw_sort_key(args.sort),
                 Table(COLUMNS, json=args.json), args)
    return 0


if __name__ == "__main__":
    from .lib.runtime import run_tool
    sys.exit(run_tool(main, sys.argv[1:]))
