"""bcc.syscall: syscall numbers → names (bytes) for this machine's architecture.

The table is read at import from the C library's <asm/unistd*.h> headers, or,
failing those, from `ausyscall --dump`. Unknown numbers read b"[unknown: N]",
as in bcc.
"""
import glob
import os
import platform
import re
import subprocess


_DEFINE = re.compile(r"^#define\s+__NR_(\w+)\s+(\d+)\s*$", re.M)
_HEADERS = {
    "x86_64": ["asm/unistd_64.h"],
    "aarch64": ["asm-generic/unistd.h"],
    "riscv64": ["asm-generic/unistd.h"],
    "ppc64le": ["asm/unistd_64.h", "asm/unistd.h"],
    "s390x": ["asm/unistd_64.h"],
}


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


def _load():
    return {n: name.encode() for n, name in (_from_headers() or _from_ausyscall()).items()}


# {number: b"name"} for this architecture (empty if no source is available), as bcc has it.
syscalls = _load()


def syscall_name(syscall_num):
    """The name of syscall ``syscall_num`` (b"read"), b"[unknown: N]" if not known."""
    return syscalls.get(int(syscall_num), b"[unknown: %d]" % syscall_num)
