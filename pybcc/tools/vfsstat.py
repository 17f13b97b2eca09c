"""vfsstat: count some VFS calls per second (bcc's columns)."""
import sys
from time import strftime

from ..kernel import features
from ..output.table import Column, Table
from .lib.args import add_interval_count, add_json, pid, tool_parser
from .lib.report import report_loop
from .lib.runtime import Tool
from .lib.snoop import attach_kprobes_or
from .lib.vfsprobes import rmdir_function

EXAMPLES = """examples:
    ./vfsstat             # count some VFS calls per second
    ./vfsstat -p 185      # trace PID 185 only
    ./vfsstat 2 5         # print 2 second summaries, 5 times
    ./vfsstat --json 1 3  # NDJSON, one object per interval (pybcc)

Source: kprobes on vfs_read, vfs_write, vfs_fsync_range, vfs_open, vfs_create,
vfs_unlink, vfs_mkdir and vfs_rmdir (its split-off body vfs_rmdir.part.0
where rmdir(2) calls that, as on 5.10), as bcc, where the kernel has kprobes.
Else the syscalls tracepoints (PYBCC_DEBUG=1 says which), each column
counting the syscalls that reach that function:
  READ/s    read, pread64 (not readv/preadv/sendfile/splice, nor the kernel's own reads)
  WRITE/s   write, pwrite64 (likewise)
  FSYNC/s   fsync, fdatasync (not msync(MS_SYNC))
  OPEN/s    open, openat, openat2, creat, open_by_handle_at that succeed (not exec's opens)
  CREATE/s  mknod/mknodat of regular files (as vfs_create; open(O_CREAT) is not it)
  UNLINK/s  unlink, unlinkat;  MKDIR/s mkdir, mkdirat;  RMDIR/s rmdir, unlinkat(AT_REMOVEDIR)
Calls that fail before the file system are counted (bcc counts them only if
they reach vfs_*), except OPEN.
"""

STATS = ("READ", "WRITE", "FSYNC", "OPEN", "CREATE", "UNLINK", "MKDIR", "RMDIR")
PROGRAMS = ["enter_read", "enter_pread64", "enter_write", "enter_pwrite64", "enter_fsync",
            "enter_fdatasync", "enter_mkdir", "enter_mkdirat", "enter_rmdir", "enter_unlink",
            "enter_unlinkat", "enter_mknod", "enter_mknodat", "exit_open", "exit_openat",
            "exit_openat2", "exit_creat", "exit_open_by_handle_at"]
KPROBES = ["kprobe_" + f for f in ("vfs_read", "vfs_write", "vfs_fsync_range", "vfs_open",
                                   "vfs_create", "vfs_unlink", "vfs_mkdir", "vfs_rmdir")]
# syscalls some architectures lack (arm64 has only the *at forms)
OPTIONAL = {"enter_mkdir", "enter_rmdir", "enter_unlink", "enter_mknod", "exit_open",
            "exit_openat2", "exit_creat", "exit_open_by_handle_at"}


def kprobes():
    """bcc's kprobes, vfs_rmdir's where every rmdir reaches (lib/vfsprobes.py)."""
    return [p for p in KPROBES if p != "kprobe_vfs_rmdir"] + [("kprobe_vfs_rmdir",
                                                                rmdir_function())]


def parse_args(argv):
    p = tool_parser("vfsstat", "Count some VFS calls.", EXAMPLES)
    p.add_argument("-p", "--pid", type=pid, help="trace this PID only")
    add_interval_count(p, interval=1)
    add_json(p)
    return p.parse_args(argv)


def columns():
    """bcc's columns; a row is {stat: calls per second}."""
    return [Column("TIME", "%-8s: ", lambda r: strftime("%H:%M:%S"), head="%-8s  ")] + [
        Column(s + "/s", " %8d", lambda r, s=s: r[s], key=s.lower()) for s in STATS]


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    constants = {"targ_pid": args.pid} if args.pid else {}
    table = Table(columns(), json=args.json)
    last = [0] * (len(STATS) + 1)

    def report(json):
        totals = [sum(tool.maps["stats"][i]) for i in range(len(STATS) + 1)]
        row = {s: (totals[i] - last[i]) // args.interval for i, s in enumerate(STATS, 1)}
        last[:] = totals
        if json:
            return table.as_dict(row)
        return table.text(row) + "\n"

    with Tool("vfsstat", constants) as tool:
        attach_kprobes_or(tool, kprobes() if features.has_kprobes() else (), PROGRAMS, OPTIONAL)
        table.print_header()
        report_loop(report, args.interval, args.count, None, args.json, blank_line=False)
    return 0


if __name__ == "__main__":
    from .lib.runtime import run_tool
    sys.exit(run_tool(main, sys.argv[1:]))
