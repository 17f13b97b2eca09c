"""mountsnoop: trace mount() and umount() syscalls, and the new mount API
(bcc's columns; fsopen/fsconfig/fsmount/move_mount as libbpf-tools' shows)."""
import errno
import sys

from ..output.table import Column, Table
from .lib.args import add_duration_and_json, tool_parser
from .lib.containers import ContainerSets
from .lib.flagnames import flag_names
from .lib.runtime import Tool, run_tool
from .lib.snoop import attach_all, print_events

EXAMPLES = """examples:
    ./mountsnoop                     # trace mount() and umount() system-wide
    ./mountsnoop -P                  # also show the parent process
    ./mountsnoop --cgroupmap mappath # only trace cgroups in this BPF map
    ./mountsnoop --mntnsmap mappath  # only trace mount namespaces in the map
    ./mountsnoop --json              # NDJSON, one object per call (pybcc)

Source: the syscalls tracepoints of mount, umount, and (as libbpf-tools'
mountsnoop) of the new mount API that util-linux 2.39+ mount(8) uses:
fsopen, fsconfig, fsmount and move_mount (bcc: kprobes on mount and umount
only). A new-API mount shows as several lines, e.g.
  fsopen("tmpfs", FSOPEN_CLOEXEC) = 3
  fsconfig(3, FSCONFIG_SET_STRING, "size", "1m", 0) = 0
  fsconfig(3, FSCONFIG_CMD_CREATE, "", "", 0) = 0
  fsmount(3, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID|MOUNT_ATTR_NODEV) = 4
  move_mount(4, "", AT_FDCWD, "/mnt", MOVE_MOUNT_F_EMPTY_PATH) = 0
Strings are cut at 255 bytes.
"""

MS_MGC_VAL, MS_MGC_MSK = 0xC0ED0000, 0xFFFF0000
MOUNT_FLAGS = [(name, 1 << bit) for bit, name in enumerate((
    "MS_RDONLY", "MS_NOSUID", "MS_NODEV", "MS_NOEXEC", "MS_SYNCHRONOUS", "MS_REMOUNT",
    "MS_MANDLOCK", "MS_DIRSYNC", None, None, "MS_NOATIME", "MS_NODIRATIME", "MS_BIND",
    "MS_MOVE", "MS_REC", "MS_SILENT", "MS_POSIXACL", "MS_UNBINDABLE", "MS_PRIVATE",
    "MS_SLAVE", "MS_SHARED", "MS_RELATIME", "MS_KERNMOUNT", "MS_I_VERSION",
    "MS_STRICTATIME", "MS_LAZYTIME", None, None, None, None, "MS_ACTIVE", "MS_NOUSER"))
    if name]
FSOPEN_FLAGS = [("FSOPEN_CLOEXEC", 1)]
FSMOUNT_FLAGS = [("FSMOUNT_CLOEXEC", 1)]
MOUNT_ATTRS = [("MOUNT_ATTR_RDONLY", 1), ("MOUNT_ATTR_NOSUID", 2), ("MOUNT_ATTR_NODEV", 4),
               ("MOUNT_ATTR_NOEXEC", 8), ("MOUNT_ATTR_NOATIME", 0x10),
               ("MOUNT_ATTR_STRICTATIME", 0x20), ("MOUNT_ATTR_NODIRATIME", 0x80),
               ("MOUNT_ATTR_IDMAP", 0x100000), ("MOUNT_ATTR_NOSYMFOLLOW", 0x200000)]
MOVE_MOUNT_FLAGS = [("MOVE_MOUNT_F_SYMLINKS", 1), ("MOVE_MOUNT_F_AUTOMOUNTS", 2),
                    ("MOVE_MOUNT_F_EMPTY_PATH", 4), ("MOVE_MOUNT_T_SYMLINKS", 0x10),
                    ("MOVE_MOUNT_T_AUTOMOUNTS", 0x20), ("MOVE_MOUNT_T_EMPTY_PATH", 0x40),
                    ("MOVE_MOUNT_SET_GROUP", 0x100), ("MOVE_MOUNT_BENEATH", 0x200)]
FSCONFIG_CMDS = ("FSCONFIG_SET_FLAG", "FSCONFIG_SET_STRING", "FSCONFIG_SET_BINARY",
                 "FSCONFIG_SET_PATH", "FSCONFIG_SET_PATH_EMPTY", "FSCONFIG_SET_FD",
                 "FSCONFIG_CMD_CREATE", "FSCONFIG_CMD_RECONFIGURE", "FSCONFIG_CMD_CREATE_EXCL")
AT_FDCWD = -100
UMOUNT_FLAGS = [("MNT_FORCE", 1), ("MNT_DETACH", 2), ("MNT_EXPIRE", 4), ("UMOUNT_NOFOLLOW", 8)]
ESCAPES = {ord("\a"): "\\a", ord("\b"): "\\b", ord("\t"): "\\t", ord("\n"): "\\n",
           ord("\v"): "\\v", ord("\f"): "\\f", ord("\r"): "\\r", ord('"'): '\\"',
           ord("\\"): "\\\\"}


def mount_flags(flags):
    if flags & MS_MGC_MSK == MS_MGC_VAL:   # the old "magic" in the top half
        return flag_names(flags & ~MS_MGC_MSK, MOUNT_FLAGS, prefix=["MS_MGC_VAL"])
    return flag_names(flags, MOUNT_FLAGS)


def quoted(raw):
    return '"%s"' % "".join(ESCAPES.get(c) or (chr(c) if 0x20 <= c <= 0x7E else "\\x%02x" % c)
                            for c in raw)


def result(ret):
    return "-" + errno.errorcode[-ret] if -ret in errno.errorcode else str(ret)


def dirfd(fd):
    return "AT_FDCWD" if fd == AT_FDCWD else str(fd)


def fsconfig_cmd(cmd):
    return FSCONFIG_CMDS[cmd] if cmd < len(FSCONFIG_CMDS) else str(cmd)


# by the event's call (mountsnoop.bpf.c's enum call): the call's text, its arguments
CALLS = {
    1: lambda e: "mount(%s, %s, %s, %s, %s)" % (
        quoted(e.source), quoted(e.target), quoted(e.type), mount_flags(e.flags),
        quoted(e.data)),
    2: lambda e: "umount(%s, %s)" % (quoted(e.target), flag_names(e.flags, UMOUNT_FLAGS)),
    3: lambda e: "fsopen(%s, %s)" % (quoted(e.type), flag_names(e.flags, FSOPEN_FLAGS)),
    4: lambda e: "fsconfig(%d, %s, %s, %s, %d)" % (
        e.fd, fsconfig_cmd(e.cmd), quoted(e.source), quoted(e.data), e.aux),
    5: lambda e: "fsmount(%d, %s, %s)" % (e.fd, flag_names(e.flags, FSMOUNT_FLAGS),
                                          flag_names(e.attr_flags, MOUNT_ATTRS)),
    6: lambda e: "move_mount(%s, %s, %s, %s, %s)" % (
        dirfd(e.fd), quoted(e.source), dirfd(e.fd2), quoted(e.target),
        flag_names(e.flags, MOVE_MOUNT_FLAGS)),
}


def call_text(e):
    return "%s = %s" % (CALLS[e.call](e), result(e.retval))


def parse_args(argv):
    p = tool_parser("mountsnoop", "trace mount() and umount() syscalls, and the new mount API",
                    EXAMPLES)
    p.add_argument("-P", "--parent_process", action="store_true",
                   help="also snoop the parent process")
    p.add_argument("--cgroupmap", help="trace cgroups in this BPF map only")
    p.add_argument("--mntnsmap", help="trace mount namespaces in this BPF map only")
    add_duration_and_json(p, "stop after this many seconds (pybcc)")
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
        # each call's entry program, and one program for all their exits;
        # the new API is Linux 5.2+: older kernels trace mount and umount only
        programs = [p for call in ("mount", "umount", "fsopen", "fsconfig", "fsmount",
                                   "move_mount")
                    for p in (f"{call}_enter", ("call_exit", f"syscalls/sys_exit_{call}"))]
        attach_all(tool, programs, programs[4:])
        print_events(tool, table, args.duration, should_stop=containers.sync)
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
