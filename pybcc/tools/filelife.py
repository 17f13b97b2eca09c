"""filelife: trace the lifespan of short-lived files (bcc's columns)."""
import sys
from time import strftime

from ..kernel.syscall_names import syscall_number
from ..output.table import Column
from .lib.runtime import run_tool
from .lib.snoop import parse_pid_snoop_args, set_constants, snoop

EXAMPLES = """examples:
    ./filelife           # trace lifecycle of file(create->remove)
    ./filelife -p 181    # only trace PID 181
    ./filelife --json    # NDJSON, one object per deleted file (pybcc)

Source: the syscalls tracepoints (bcc: kprobes on vfs_create/vfs_open/
vfs_unlink). A file is born when open/openat/openat2/creat creates it
(FMODE_CREATED on the new file) and dies when unlink/unlinkat removes a file
of that name. Differs from bcc: files are matched by name (the last path
component, up to 63 bytes), not by dentry, so two files of the same name in
different directories can be confused; files made by mknod() are not seen;
deletions that fail are reported too. -p filters both the creating and the
deleting process.
"""

COLUMNS = [
    Column("TIME", "%-8s ", lambda e: strftime("%H:%M:%S")),
    Column("PID", "%-7d ", lambda e: e.pid),
    Column("COMM", "%-16s ", lambda e: e.comm),
    Column("AGE(s)", "%-7.2f ", lambda e: e.delta_ms / 1000),
    Column("FILE", "%s", lambda e: e.fname),
]


def parse_args(argv):
    return parse_pid_snoop_args("filelife", "Trace lifecycle of file", EXAMPLES, argv)


# one program serves the exits of every call that creates a file, one the
# entries of unlinkat and unlink
CREATES = tuple(("exit_open_any", f"syscalls/sys_exit_{sc}")
                for sc in ("openat", "open", "openat2", "creat"))
UNLINKS = tuple(("enter_unlink_any", f"syscalls/sys_enter_{sc}") for sc in ("unlinkat", "unlink"))
OPTIONAL = CREATES[1:] + UNLINKS[1:]


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    constants = set_constants(targ_pid=args.pid, nr_unlink=syscall_number("unlink"))
    return snoop("filelife", args, COLUMNS, constants, CREATES + UNLINKS, OPTIONAL)


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
