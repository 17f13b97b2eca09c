"""The file systems fsdist and fsslower know (and bcc's per-file-system
tools: ext4dist, xfsslower, ...), and how their operations get timed on the
running kernel (the BPF side is pybcc/fslatency.h).

Best first: fentry/fexit on the file system's own functions, else kprobes on
them (bcc's and libbpf-tools' data); without either, the sys_enter/sys_exit
tracepoints (raw ones on x86 and arm64) with a walk from the fd to the file's
super block, which time the whole syscall (VFS included) and do not see
mmap'ed I/O or io_uring.
"""
from __future__ import annotations

import os
from ...record import field, record

from ...errors import BPFError
from .procutil import last_words

READ, WRITE, OPEN, FSYNC, GETATTR = range(5)
OP_NAMES = ("read", "write", "open", "fsync", "getattr")


@record(frozen=True)
class FileSystem:
    name: str                   # -t's name, as /proc/filesystems lists it
    title: str                  # as bcc's messages write it ("XFS")
    magic: int                  # its super block's s_magic
    functions: dict = field(default_factory=dict)  # op -> alternatives, best first;
    #   an alternative is a tuple of functions attached together
    kernel_names: tuple = ()    # its names in /proc/filesystems (default: name)
    module_dir: str = ""        # its directory under the kernel's modules (default: name)


def _fs(name, title, magic, read, write, open_, fsync, getattr_=None, **kw):
    funcs = {READ: read, WRITE: write, OPEN: open_, FSYNC: fsync}
    if getattr_:
        funcs[GETATTR] = getattr_
    funcs = {op: [a if isinstance(a, tuple) else (a,) for a in alts]
             for op, alts in funcs.items()}
    return FileSystem(name, title, magic, funcs, **kw)


# Functions as libbpf-tools' fsdist names them, then bcc's older choices
# (generic_* is safe: files are also matched by super block magic).
FILESYSTEMS = {fs.name: fs for fs in (
    _fs("ext4", "ext4", 0xEF53, ["ext4_file_read_iter", "generic_file_read_iter"],
        ["ext4_file_write_iter"], ["ext4_file_open"], ["ext4_sync_file"],
        ["ext4_file_getattr"], kernel_names=("ext4", "ext3", "ext2")),
    _fs("xfs", "XFS", 0x58465342, ["xfs_file_read_iter"], ["xfs_file_write_iter"],
        ["xfs_file_open"], ["xfs_file_fsync"]),
    _fs("btrfs", "btrfs", 0x9123683E, ["btrfs_file_read_iter", "generic_file_read_iter"],
        ["btrfs_file_write_iter"], ["btrfs_file_open", "generic_file_open"],
        ["btrfs_sync_file"]),
    _fs("nfs", "NFS", 0x6969, ["nfs_file_read"], ["nfs_file_write"],
        [("nfs_file_open", "nfs4_file_open"), "nfs_file_open"], ["nfs_file_fsync"],
        ["nfs_getattr"], kernel_names=("nfs", "nfs4")),
    _fs("f2fs", "f2fs", 0xF2F52010, ["f2fs_file_read_iter", "generic_file_read_iter"],
        ["f2fs_file_write_iter"], ["f2fs_file_open"], ["f2fs_sync_file"], ["f2fs_getattr"]),
    _fs("fuse", "fuse", 0x65735546, ["fuse_file_read_iter"], ["fuse_file_write_iter"],
        ["fuse_open"], ["fuse_fsync"], ["fuse_getattr"], kernel_names=("fuse", "fuseblk")),
    _fs("bcachefs", "bcachefs", 0xCA451A4E, ["bch2_read_iter"], ["bch2_write_iter"],
        ["bch2_open"], ["bch2_fsync"], ["bch2_getattr"]),
    _fs("zfs", "ZFS", 0x2FC12FC1, ["zpl_iter_read"], ["zpl_iter_write"], ["zpl_open"],
        ["zpl_fsync"], module_dir="zfs"),
)}

# The syscalls that time each operation, by how the BPF side reads them
# (enum sc_how in fslatency.h). Names as pybcc/kernel/syscall_names.py has
# them; syscalls an architecture lacks are skipped.
SC_FD, SC_FD_POS, SC_OPEN, SC_FSYNC, SC_FSTATAT, SC_STATX = range(1, 7)
SYSCALLS = {
    READ: [(SC_FD, ("read", "readv")), (SC_FD_POS, ("pread64", "preadv", "preadv2"))],
    WRITE: [(SC_FD, ("write", "writev")), (SC_FD_POS, ("pwrite64", "pwritev", "pwritev2"))],
    OPEN: [(SC_OPEN, ("open", "openat", "openat2", "creat"))],
    FSYNC: [(SC_FSYNC, ("fsync", "fdatasync"))],
    GETATTR: [(SC_FD, ("fstat",)), (SC_FSTATAT, ("newfstatat",)),
              (SC_STATX, ("statx",))],
}
SC_MAX = 512
KPROBE_ENTERS = {READ: "kp_rw", WRITE: "kp_rw", OPEN: "kp_open", FSYNC: "kp_fsync",
                 GETATTR: "kp_getattr"}
FENTRY_NAMES = {READ: "read", WRITE: "write", OPEN: "open", FSYNC: "fsync",
                GETATTR: "getattr"}

SYSCALLS_NOTE = """\
Mechanism: fentry/fexit on the file system's functions where the kernel
allows them (built in, or a module with BTF), else kprobes (as bcc). Without either
(PYBCC_DEBUG=1 tells),
the sys_enter/sys_exit tracepoints, on the regular files of this file system
(found from the fd: file -> inode -> super block):
{ops}
That times the whole syscall, VFS layer included; mmap'ed I/O, io_uring,
aio, sendfile/splice, I/O done inside the kernel and 32-bit processes are
not seen."""


def syscalls_note(ops):
    """The help's note on how ``ops`` are timed."""
    lines = []
    for op in ops:
        names = ", ".join(n for _, group in SYSCALLS[op] for n in group)
        if op == GETATTR:
            names = "fstat, and fstatat/statx of an fd (not stat of a path)"
        lines.append("  %-8s %s" % (OP_NAMES[op] + ":", names))
    return SYSCALLS_NOTE.format(ops="\n".join(lines))


def lookup(name):
    """The FileSystem for -t NAME: one of the table's, or any other file system
    the kernel has (matched by its type's name, through the syscalls only).
    None when the kernel does not know that name."""
    fs = FILESYSTEMS.get(name)
    if fs is not None:
        return fs
    if name in last_words("/proc/filesystems"):
        return FileSystem(name, name, 0)
    return None


def absence(fs):
    """None when the kernel has ``fs``, else one line saying why not."""
    names = fs.kernel_names or (fs.name,)
    if last_words("/proc/filesystems") & set(names):
        return None
    release = os.uname().release
    moddir = f"/lib/modules/{release}/kernel/fs/{fs.module_dir or fs.name}"
    if os.path.isdir(moddir) or os.path.isdir(f"/lib/modules/{release}/extra/{fs.name}"):
        return f"{fs.name} is a module of this kernel that is not loaded (modprobe {fs.name})"
    return (f"{fs.name} is not in this kernel ({release}): not in /proc/filesystems "
            f"and no module for it")


def _functions_probed(fs):
    """Whether ``fs``'s own functions can be probed here (fentry or kprobes)."""
    from ...kernel import features
    return bool(fs.functions) and (features.has_fentry() or features.has_kprobes())


def object_name(tool_name, fs):
    """The object to load for ``fs``: TOOL, or TOOL_sys (fslatency.h's
    syscall programs only, a fifth of the object to read and prepare at
    start) where attach() would use the syscalls anyway."""
    return tool_name if _functions_probed(fs) else tool_name + "_sys"


def attach(tool, fs, ops):
    """Attach the timing of ``ops`` on ``fs``; returns the mechanism used.
    The tool's constants must include syscall_constants(ops)."""
    from ...kernel import features
    if _functions_probed(fs):
        try:
            return _attach_functions(tool, fs, ops, features.has_fentry())
        except BPFError as e:
            _detach_all(tool)
            _debug(f"{fs.name}'s functions: {e}; using the syscall tracepoints")
    _attach_syscalls(tool)
    return "syscall tracepoints"


def _debug(message):
    if os.environ.get("PYBCC_DEBUG"):
        import sys
        print(f"pybcc: {message}", file=sys.stderr)


def _detach_all(tool):
    for link in tool.links:
        link.close()
    tool.links.clear()
    tool.mechanisms.clear()


def _attach_functions(tool, fs, ops, fentry):
    kinds = set()
    for op in ops:
        alternatives = fs.functions.get(op)
        if not alternatives:
            continue
        error = None
        for funcs in alternatives:
            try:
                kinds.add(attach_op(tool, op, funcs, fentry))
                break
            except BPFError as e:
                error = error or e
        else:
            raise error
    return " and ".join(sorted(kinds)) + f" on {fs.name}'s functions"


def attach_op(tool, op, funcs, fentry):
    """Time ``op`` by the file system functions ``funcs``: fentry/fexit when
    ``fentry`` and the kernel takes it, else kprobes. Returns which."""
    if fentry and len(funcs) == 1:
        try:
            name = FENTRY_NAMES[op]
            _load_for(tool, "fe_" + name, funcs[0])
            _load_for(tool, "fx_" + name, funcs[0])
            tool.attach("fx_" + name, funcs[0])
            tool.attach("fe_" + name, funcs[0])
            return "fentry/fexit"
        except BPFError as e:
            _debug(f"fentry on {funcs[0]}: {e}; trying a kprobe")
    exit_prog = "kret_" + OP_NAMES[op]
    for func in funcs:
        tool.attach(exit_prog, func)
        tool.attach(KPROBE_ENTERS[op], func)
    return "kprobes"


def _load_for(tool, prog, func):
    """Load an fentry/fexit program for ``func`` (its target is fixed at load)."""
    spec = tool.coll.spec.programs[prog]
    tool.coll.load_program(prog, sdef=spec.sdef, target=func)


def syscall_constants(ops, machine=None):
    """sc_how and sc_op (fslatency.h) for ``ops``: what each syscall number is."""
    from ...kernel.syscall_names import syscall_number
    how, op_of = bytearray(SC_MAX), bytearray(SC_MAX)
    for op in ops:
        for kind, names in SYSCALLS[op]:
            for name in names:
                nr = syscall_number(name, machine)
                if nr is not None and nr < SC_MAX:
                    how[nr], op_of[nr] = kind, op
    return {"sc_how": bytes(how), "sc_op": bytes(op_of)}


def _attach_syscalls(tool):
    # the exit first: an entry whose exit is not attached yet would stay.
    # Raw tracepoints where the BPF side reads this architecture's pt_regs.
    if os.uname().machine in ("x86_64", "aarch64"):
        try:
            tool.attach("fs_sys_exit_raw")
            tool.attach("fs_sys_enter_raw")
            return
        except BPFError as e:
            _detach_all(tool)
            _debug(f"raw_syscalls raw tracepoints: {e}; using the classic ones")
    tool.attach("fs_sys_exit")
    tool.attach("fs_sys_enter")
