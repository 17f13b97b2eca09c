"""mountsnoop: trace mount() and umount() syscalls (bcc's columns)."""
import errno
import sys

from ..output.table import Column, Table
from .lib.args import add_duration, add_json, tool_parser
from .lib.containers import ContainerSets
from .lib.runtime import Tool, run_tool
from .lib.snoop import attach_all, print_events

EXAMPLES = """examples:
    ./mountsnoop                     # trace mount() and umount() system-wide
    ./mountsnoop -P                  # also show the parent process
    ./mountsnoop --cgroupmap mappath # only trace cgroups in this BPF map
    ./mountsnoop --mntnsmap mappath  # only trace mount namespaces in the map
    ./mountsnoop --json              # NDJSON, one object per call (pybcc)

Source: the syscalls:sys_enter/exit_mount and _umount tracepoints (bcc: kprobes).
Differs from bcc: the new mount API calls (fsopen, fsconfig, fsmount,
move_mount) are not shown; strings are cut at 255 bytes.
"""

MS_MGC_VAL, MS_MGC_MSK = 0xC0ED0000, 0xFFFF0000
MOUNT_FLAGS = [(name, 1 << bit) for bit, name in enumerate((
    "MS_RDONLY", "MS_NOSUID", "MS_NODEV", "MS_NOEXEC", "MS_SYNCHRONOUS", "MS_REMOUNT",
    "MS_MANDLOCK", "MS_DIRSYNC", None, None, "MS_NOATIME", "MS_NODIRATIME", "MS_BIND",
    "MS_MOVE", "MS_REC", "MS_SILENT", "MS_POSIXACL", "MS_UNBINDABLE", "MS_PRIVATE",
    "MS_SLAVE", "MS_SHARED", "MS_RELATIME", "MS_KERNMOUNT", "MS_I_VERSION",
    "MS_STRICTATIME", "MS_LAZYTIME", None, None, None, None, "MS_ACTIVE", "MS_NOUSER"))
    if name]
UMOUNT_FLAGS = [("MNT_FORCE", 1), ("MNT_DETACH", 2), ("MNT_EXPIRE", 4), ("UMOUNT_NOFOLLOW", 8)]
ESCAPES = {ord("\a"): "\\a", ord("\b"): "\\b", ord("\t"): "\\t", ord("\n"): "\\n",
           ord("\v"): "\\v", ord("\f"): "\\f", ord("\r"): "\\r", ord('"'): '\\"',
           ord("\\"): "\\\\"}


def flag_names(flags, table, prefix=()):
    """'MS_BIND|MS_REC'; unknown bits (or no bits) as hex, as bcc shows them."""
    names = list(prefix)
    for name, bit in table:
        if flags & bit:
            names.append(name)
        flags &= ~bit
    if flags or not names:
        names.append("0x%x" % flags)
    return "|".join(names)


def mount_flags(flags):
    if flags & MS_MGC_MSK == MS_MGC_VAL:   # the old "magic" in the top half
        return flag_names(flags & ~MS_MGC_MSK, MOUNT_FLAGS, ["MS_MGC_VAL"])
    return flag_names(flags, MOUNT_FLAGS)


def quoted(raw):
    return '"%s"' % "".join(ESCAPES.get(c) or (chr(c) if 0x20 <= c <= 0x7E else "\\x%02x" % c)
                            for c in raw)


def result(ret):
    return "-" + errno.errorcode[-ret] if -ret in errno.errorcode else str(ret)


def call_text(e):
    if e.call == 1:
        return "mount(%s, %s, %s, %s, %s) = %s" % (
            quoted(e.source), quoted(e.target), quoted(e.type), mount_flags(e.flags),
            quoted(e.data), result(e.retval))
    return "umount(%s, %s) = %s" % (quoted(e.target), flag_names(e.flags, UMOUNT_FLAGS),
                                    result(e.retval))


def parse_args(argv):
    p = tool_parser("mountsnoop", "trace mount() and umount() syscalls", EXAMPLES)
    p.add_argument("-P", "--parent_process", action="store_true",
                   help="also snoop the parent process")
    p.add_argument("--cgroupmap", help="trace cgroups in this BPF map only")
    p.add_argument("--mntnsmap", help="trace mount namespaces in this BPF map only")
    add_duration(p, "stop after this many seconds (pybcc)")
    add_json(p)
    return p.parse_args(argv)


def columns(args):
    return [
        Column("COMM", "%-16s ", lambda e: e.comm),
        Column("PID", "%-7d ", lambda e: e.pid),
        Column("TID", "%-7d ", lambda e: e.tid),
        Column("PCOMM", "%-16s ", lambda e: e.pcomm) if args.parent_process else None,
        Column("PPID", "%-7d ", lambda e: e.ppid) if args.parent_process else None,
        Column("MNT_NS", "%-11d ", lambda e: e.mnt_ns),
        Column("CALL", "%s", call_text),
    ]


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    constants = {"filter_cgroup": bool(args.cgroupmap), "filter_mntns": bool(args.mntnsmap)}
    table = Table(columns(args), json=args.json)
    with Tool("mountsnoop", constants, events=True) as tool:
        containers = ContainerSets(tool, args.cgroupmap, args.mntnsmap)
        containers.sync()
        attach_all(tool, ("mount_enter", "mount_exit", "umount_enter", "umount_exit"))

        def should_stop():
            containers.sync()
            return False
        print_events(tool, table, args.duration, should_stop=should_stop)
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
