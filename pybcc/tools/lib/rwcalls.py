"""Attach the file read/write events of include/pybcc/rwcalls.h (filetop,
fileslower, dirtop): kprobes on vfs_read/vfs_write where the kernel has
kprobes (bcc's source), else the read/write syscall tracepoints (entry and
exit of each; syscalls an architecture lacks are skipped)."""
from .snoop import attach_kprobes_or

READS = ("read", "pread64", "readv", "preadv", "preadv2")
WRITES = ("write", "pwrite64", "writev", "pwritev", "pwritev2")
DNAME_INLINE_LEN = 32      # the bytes of a name bcc's filetop and fileslower show


def dentry_name(name, name_len):
    """A name as bcc shows it: its first 32 bytes, ending in "..." when cut."""
    name = name.decode(errors="replace") if isinstance(name, bytes) else name
    return name[:DNAME_INLINE_LEN - 3] + "..." if name_len > DNAME_INLINE_LEN else name


# Return slots of the vfs_read/vfs_write kretprobes, one per thread inside
# (readers of pipes and sockets sleep there): kernels before 6.2 without
# CONFIG_PREEMPTION (5.10) give one per CPU by default and missed the slow
# read's return. Asked for through tracefs kprobe_events (the PMU cannot).
KRETPROBE_MAXACTIVE = 1024

REQUIRED = {"read", "write"}     # syscalls every architecture has


def attach_rw(tool, reads=True, writes=True, at_return=False):
    """Attach the programs of the reads, the writes, or both; returns the
    source used: "kprobe" (vfs_read/vfs_write) or "tracepoint" (syscalls)."""
    sides = (("read",) if reads else ()) + (("write",) if writes else ())
    kprobes = [f"rw_kprobe_{s}" for s in sides]
    if at_return:
        kprobes += [(f"rw_kretprobe_{s}", None, {"maxactive": KRETPROBE_MAXACTIVE})
                    for s in sides]
    # one enter program per side and one exit program, each attached to
    # every syscall's tracepoint (see rwcalls.h)
    syscalls = [(program, f"syscalls/sys_{side}_{n}")
                for names, enter in ((READS if reads else (), "rw_enter_read"),
                                     (WRITES if writes else (), "rw_enter_write"))
                for n in names
                for program, side in ((enter, "enter"), ("rw_exit_syscall", "exit"))]
    optional = [p for p in syscalls if p[1].rsplit("_", 1)[1] not in REQUIRED]
    return attach_kprobes_or(tool, kprobes, syscalls, optional)
