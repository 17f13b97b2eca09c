"""bcc.syscall: syscall numbers → names for this machine's architecture.

The names come from pybcc's one table (pybcc.kernel.syscall_names). Unknown
numbers read "[unknown: N]", as in bcc; names are bytes, as in bcc.
"""
from ..kernel import syscall_names
from .text import Text


def syscalls():
    """{number: name} for this architecture."""
    return syscall_names.syscalls()


def syscall_name(syscall_num):
    """The name of syscall ``syscall_num`` ("read"), "[unknown: N]" if not known."""
    return Text(syscall_names.syscall_name(int(syscall_num)))
