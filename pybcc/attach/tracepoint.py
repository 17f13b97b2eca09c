"""Tracepoints (TRACEPOINT programs on events/CATEGORY/NAME)."""
from ..errors import AttachError, BPFError
from ..kernel import tracefs
from ..kernel.uapi import PERF_TYPE_TRACEPOINT
from .perf import attach_perf_fd, perf_open


def attach_tracepoint(prog_fd, category, name=None, cookie=0):
    """Attach to tracepoint CATEGORY:NAME (or ``category="cat:name"``).

    A missing tracepoint raises tracefs.TracepointNotFound with close names."""
    category, name = tracefs.split_name(category, name)
    tp_id = tracefs.tracepoint_id(category, name)
    what = f"tracepoint {category}:{name}"
    try:
        pfd = perf_open(type=PERF_TYPE_TRACEPOINT, config=tp_id, sample_period=1,
                        wakeup_events=1)
    except BPFError as e:
        raise AttachError(f"opening the perf event of {what}", e.errno) from None
    return attach_perf_fd(prog_fd, pfd, what, cookie=cookie)
