"""The kernel's name for this machine's architecture (as in arch/NAME and
__TARGET_ARCH_NAME), without importing anything heavy."""
import os

_ARCH = {"x86_64": "x86", "amd64": "x86", "i386": "x86", "i686": "x86",
         "aarch64": "arm64", "arm64": "arm64", "armv7l": "arm", "armv6l": "arm",
         "s390x": "s390", "ppc64le": "powerpc", "ppc64": "powerpc",
         "riscv64": "riscv", "loongarch64": "loongarch", "mips64": "mips", "mips": "mips"}


def target_arch(machine=None):
    """The kernel's name for the architecture (as in __TARGET_ARCH_<name>)."""
    m = machine or os.uname().machine
    return _ARCH.get(m, m)
