"""bcc.syscall: syscall numbers → names (bytes) for this machine's architecture.

The names come from pybcc's one table (pybcc.kernel.syscall_names). Unknown
numbers read b"[unknown: N]", as in bcc.
"""
from ..kernel import syscall_names

# {number: b"name"} for this architecture, as bcc has it.
syscalls = {n: name.encode() for n, name in syscall_names.syscalls().items()}


def syscall_name(syscall_num):
    """The name of syscall ``syscall_num`` (b"read"), b"[unknown: N]" if not known."""
    return syscalls.get(int(syscall_num), b"[unknown: %d]" % syscall_num)
