"""Bind a program to an open perf event (tracepoint, kprobe, uprobe, sampling).

Prefers a BPF link (BPF_LINK_CREATE, attach type PERF_EVENT, kernel >= 5.15),
else PERF_EVENT_IOC_SET_BPF on the event fd. Either way the perf event fd is
what keeps the attachment alive, so it dies with the process.
"""
import os

from ..errors import AttachError, BPFError
from ..kernel import bpf
from ..kernel.uapi import AttachType, PERF_EVENT_IOC_ENABLE, PERF_EVENT_IOC_SET_BPF
from .link import Link

_EINVAL, _EOPNOTSUPP, _ENOTSUPP = 22, 95, 524


def perf_open(pid=-1, cpu=0, attr_flags=0, what=None, **fields):
    """perf_event_open(2); ``attr_flags`` is the attr's bitfield word."""
    return bpf.perf_event_open(pid=pid, cpu=cpu, what=what, flags=attr_flags, **fields)


def attach_perf_fd(prog_fd, pfd, description, cleanups=(), cookie=0, bpf_link=True):
    """Attach prog_fd to the perf event pfd; the returned Link owns pfd
    (closed here too if attaching fails). bpf_link=False attaches with the
    perf ioctl alone, as bcc does: no bpf() call once the event exists."""
    lfd = None
    try:
        try:
            if bpf_link or cookie:
                lfd = bpf.link_create(prog_fd, pfd, AttachType.PERF_EVENT,
                                      perf_event_bpf_cookie=cookie or None)
        except BPFError as e:
            if e.errno not in (_EINVAL, _EOPNOTSUPP, _ENOTSUPP) or cookie:
                raise
            lfd = None   # no perf links on this kernel: the older ioctl
        if lfd is None:
            bpf.ioctl(pfd, PERF_EVENT_IOC_SET_BPF, prog_fd)
        bpf.ioctl(pfd, PERF_EVENT_IOC_ENABLE, 0)
    except BPFError as e:
        for fd in (lfd, pfd):
            if fd is not None:
                os.close(fd)
        for fn in cleanups:
            try:
                fn()
            except (OSError, BPFError):
                pass
        raise AttachError(f"attaching program to {description}", e.errno) from None
    fds = [pfd] if lfd is None else [lfd, pfd]
    return Link(description, fds, cleanups, bpf_link=lfd is not None)
