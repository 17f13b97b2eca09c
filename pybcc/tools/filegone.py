"""filegone: trace why a file is gone, deleted or renamed (bcc's columns)."""
import os
import sys

from ..kernel import features
from ..output.table import Column
from .lib.snoop import attach_kprobes_or, parse_pid_snoop_args, set_constants, snoop
from .lib.vfsprobes import rmdir_function
from .lib.timestamps import wall_clock

EXAMPLES = """examples:
    ./filegone           # trace all file gone events
    ./filegone -p 181    # only trace PID 181
    ./filegone --json    # NDJSON, one object per event (pybcc)

Source: kprobes/kretprobes on vfs_unlink, vfs_rmdir and vfs_rename, as bcc,
where the kernel has kprobes; else the syscall tracepoints of unlink,
unlinkat, rmdir, rename, renameat and renameat2 (entry and exit). With the
tracepoints (PYBCC_DEBUG=1 says which), FILE is the last component of the
path the caller gave (bcc: the dentry's name; the same unless the path ends
in a symbolic link's or "." / ".." component), and removals the kernel makes
on its own (overlayfs, nfsd, cachefiles) are not seen. Failed calls are not
reported, as in bcc. Names are cut to 32 bytes.
"""
NAME_LEN = 32
OPTIONAL = ("enter_unlink", "exit_unlink", "enter_rmdir", "exit_rmdir", "enter_rename_sc",
            "exit_rename", "enter_renameat", "exit_renameat")
KPROBES = ("vfs_unlink_kprobe", "vfs_unlink_kretprobe", "vfs_rename_kprobe",
           "vfs_rename_kretprobe")


def kprobes():
    """bcc's kprobes, vfs_rmdir's where every rmdir reaches (lib/vfsprobes.py)."""
    rmdir = rmdir_function()
    return KPROBES + (("vfs_rmdir_kprobe", rmdir), ("vfs_rmdir_kretprobe", rmdir))


def last_name(path):
    """A path's last component (a dentry's name is one already), cut as bcc's
    32-byte DNAME_INLINE_LEN buffer cuts it."""
    path = path.decode(errors="replace")
    return os.path.basename(path.rstrip("/") or path)[:NAME_LEN]


def file_text(e):
    if chr(e.action) == "R":
        return "%s > %s" % (last_name(e.fname), last_name(e.fname2))
    return last_name(e.fname)


COLUMNS = [
    Column("TIME", "%-8s ", wall_clock),
    Column("PID", "%-7d ", "pid"),
    Column("COMM", "%-16s ", "comm"),
    Column("ACTION", "%6s ", lambda e: "RENAME" if chr(e.action) == "R" else "DELETE"),
    Column("FILE", "%s", file_text),
]


def parse_args(argv):
    return parse_pid_snoop_args("filegone", "Trace why file gone (deleted or renamed)",
                                EXAMPLES, argv)


SYSCALLS = [f"{side}_{sc}" for sc in ("unlinkat", "renameat2", "unlink", "rmdir", "renameat")
            for side in ("enter", "exit")] + ["enter_rename_sc", "exit_rename"]


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    return snoop("filegone", args, COLUMNS, set_constants(targ_tgid=args.pid),
                 attach=lambda tool: attach_kprobes_or(
                     tool, kprobes() if features.has_kprobes() else (), SYSCALLS, OPTIONAL))


if __name__ == "__main__":
    from .lib.runtime import run_tool
    sys.exit(run_tool(main, sys.argv[1:]))
