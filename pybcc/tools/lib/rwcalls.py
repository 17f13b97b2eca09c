"""Attach the file read/write events of include/pybcc/rwcalls.h (filetop,
fileslower, dirtop): kprobes on vfs_read/vfs_write where the kernel has
kprobes (bcc's source), else the read/write syscall tracepoints (entry and
exit of each; syscalls an architecture lacks are skipped)."""
from ...errors import BPFError
from ...kernel import features
from .snoop import attach_all

READS = ("read", "pread64", "readv", "preadv", "preadv2")
WRITES = ("write", "pwrite64", "writev", "pwritev", "pwritev2")


def attach_kprobes(tool, reads, writes, at_return):
    sides = (("read",) if reads else ()) + (("write",) if writes else ())
    kinds = ("kprobe", "kretprobe") if at_return else ("kprobe",)
    attach_all(tool, [f"rw_{k}_{s}" for s in sides for k in kinds])


def attach_syscalls(tool, reads, writes):
    names = (READS if reads else ()) + (WRITES if writes else ())
    progs = [f"rw_{side}_{n}" for n in names for side in ("enter", "exit")]
    required = {"rw_enter_read", "rw_exit_read", "rw_enter_write", "rw_exit_write"}
    attach_all(tool, progs, [p for p in progs if p not in required])


def attach_rw(tool, reads=True, writes=True, at_return=False):
    """Attach the programs of the reads, the writes, or both; returns the
    source used: "kprobe" (vfs_read/vfs_write) or "syscalls"."""
    if features.has_kprobes():
        try:
            attach_kprobes(tool, reads, writes, at_return)
            return "kprobe"
        except BPFError:
            for link in tool.links:     # a half-attached pair
                link.close()
            tool.links.clear()
            tool.mechanisms.clear()
    attach_syscalls(tool, reads, writes)
    return "syscalls"
