"""RLIMIT_MEMLOCK, raised only on kernels that charge BPF memory to it.

Before Linux 5.11 the kernel charged maps and programs to the locked-memory
limit (64 KiB or 8 MiB by default), so creating a map failed with EPERM long
before memory ran out. From 5.11 on it charges the memory cgroup and the limit
does not matter. A release from 5.11 on needs nothing; on an older one (a
distribution may have backported the accounting), as libbpf does, tell the
two apart by trying a helper that arrived in the same release as memcg
accounting (bpf_ktime_get_coarse_ns), and raise the limit only if needed. ensure() runs once, before the
first map, program or BTF object is created (kernel/bpf.py calls it).
"""
import os
import resource

BPF_FUNC_ktime_get_coarse_ns = 160

_checked = False
_problem = None     # why the limit is too low and could not be raised, if so


def charges_memlock():
    """Whether this kernel charges BPF memory to RLIMIT_MEMLOCK (before 5.11)."""
    from . import features
    from .uapi import ProgType
    return not features.helper_supported(ProgType.SOCKET_FILTER, BPF_FUNC_ktime_get_coarse_ns)


def ensure():
    """Raise RLIMIT_MEMLOCK to unlimited if this kernel needs it (once)."""
    global _checked, _problem
    if _checked:
        return
    _checked = True         # first: the probe itself loads a program
    soft, hard = resource.getrlimit(resource.RLIMIT_MEMLOCK)
    if soft == resource.RLIM_INFINITY or _release() >= (5, 11):
        return      # (from 5.11 on, memcg accounting is certain: no probe at every start)
    try:
        if not charges_memlock():
            return
    except OSError:
        pass                # cannot tell: raise it, as libbpf does
    try:
        resource.setrlimit(resource.RLIMIT_MEMLOCK, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    except (ValueError, OSError) as e:
        _problem = (f"this kernel charges BPF maps and programs to RLIMIT_MEMLOCK, which is "
                    f"{_kib(soft)} and could not be raised ({e}); raise it "
                    f"(ulimit -l unlimited, or LimitMEMLOCK=infinity for a service) or run as root")


def _release():
    """(major, minor) of the running kernel; (0, 0) when unreadable."""
    try:
        major, minor = os.uname().release.split(".")[:2]
        return int(major), int("".join(ch for ch in minor if ch.isdigit()) or 0)
    except ValueError:
        return (0, 0)


def explain(errno_value):
    """A hint for an EPERM from creating a BPF object when the memlock limit
    is why; "" otherwise."""
    return f" ({_problem})" if errno_value == 1 and _problem else ""


def _kib(n):
    return f"{n // 1024} KiB"
