"""bcc.syscall: syscall numbers → names for this machine's architecture.

The table is read once from the C library's <asm/unistd*.h> headers, or,
failing those, from `ausyscall --dump`. Unknown numbers read "[unknown: N]",
as in bcc.
"""
import glob
import os
import platform
import re
import subprocess

from .text import Text

_DEFINE = re.compile(r"^#define\s+__NR_(\w+)\s+(\d+)\s*$", re.M)
_HEADERS = {
    "x86_64": ["asm/unistd_64.h"],
    "aarch64": ["asm-generic/unistd.h"],
    "riscv64": ["asm-generic/unistd.h"],
    "ppc64le": ["asm/unistd_64.h", "asm/unistd.h"],
    "s390x": ["asm/unistd_64.h"],
}
_table = None


def _from_headers():
    names = {}
    for rel in _HEADERS.get(platform.machine(), ["asm/unistd_64.h", "asm/unistd.h"]):
        for path in [os.path.join("/usr/include", rel)] + glob.glob(f"/usr/include/*-linux-gnu*/{rel}"):
            try:
                with open(path) as f:
                    found = {int(n): name for name, n in _DEFINE.findall(f.read())}
            except OSError:
                continue
            if found:
                names.update(found)
        if names:
            break
    return names


def _from_ausyscall():
    try:
        out = subprocess.run(["ausyscall", "--dump"], capture_output=True, text=True,
                             timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return {}
    names = {}
    for line in out.splitlines()[1:]:
        parts = line.split()
        if len(parts) == 2 and parts[0].isdigit():
            names[int(parts[0])] = parts[1]
    return names


def syscalls():
    """{number: name} for this architecture (empty if no source is available)."""
    global _table
    if _table is None:
        _table = _from_headers() or _from_ausyscall()
    return _table


def syscall_name(syscall_num):
    """The name of syscall ``syscall_num`` ("read"), "[unknown: N]" if not known."""
    name = syscalls().get(int(syscall_num))
    return Text(name if name is not None else "[unknown: %d]" % syscall_num)
