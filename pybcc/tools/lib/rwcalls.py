"""Attach the read/write syscall pairs of include/pybcc/rwcalls.h (filetop,
fileslower, dirtop): each syscall's entry and exit program, the syscalls an
architecture lacks skipped."""
from .snoop import attach_all

READS = ("read", "pread64", "readv", "preadv", "preadv2")
WRITES = ("write", "pwrite64", "writev", "pwritev", "pwritev2")


def attach_rw(tool, reads=True, writes=True):
    """Attach the programs of the read syscalls, the write syscalls, or both."""
    names = (READS if reads else ()) + (WRITES if writes else ())
    progs = [f"rw_{side}_{n}" for n in names for side in ("enter", "exit")]
    required = {"rw_enter_read", "rw_exit_read", "rw_enter_write", "rw_exit_write"}
    attach_all(tool, progs, [p for p in progs if p not in required])
