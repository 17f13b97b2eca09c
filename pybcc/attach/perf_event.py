"""Sampling perf events (PERF_EVENT programs): one event per CPU, each
firing every ``sample_period`` events or ``sample_freq`` times a second."""
from ..errors import AttachError, BPFError, NotSupportedError
from ..kernel.uapi import (PERF_ATTR_FREQ, PERF_COUNT_SW_CPU_CLOCK, PERF_TYPE_HARDWARE,
                           PERF_TYPE_HW_CACHE, PERF_TYPE_SOFTWARE)
from ..kernel.cpus import online_cpus
from .link import Link
from .perf import attach_perf_fd, perf_open

_ENOENT, _EOPNOTSUPP = 2, 95


def attach_perf_event(prog_fd, ev_type=PERF_TYPE_SOFTWARE, ev_config=PERF_COUNT_SW_CPU_CLOCK,
                      sample_period=0, sample_freq=0, pid=-1, cpu=-1, cookie=0):
    """Attach to a sampling event on every online CPU (or just ``cpu``), for
    all processes or just ``pid``. Give sample_period or sample_freq."""
    if bool(sample_period) == bool(sample_freq):
        raise ValueError("give exactly one of sample_period and sample_freq")
    # A process is followed on whatever CPU it runs: one event (cpu -1) is enough.
    cpus = [cpu] if cpu >= 0 or pid > 0 else online_cpus()
    how = f"freq={sample_freq}" if sample_freq else f"period={sample_period}"
    what = f"perf event type={ev_type} config={ev_config} {how}" + \
        (f" pid={pid}" if pid > 0 else "")
    links = []
    try:
        for c in cpus:
            try:
                pfd = perf_open(pid=pid, cpu=c, type=ev_type, config=ev_config,
                                sample_period=sample_freq or sample_period,
                                attr_flags=PERF_ATTR_FREQ if sample_freq else 0)
            except BPFError as e:
                if ev_type in (PERF_TYPE_HARDWARE, PERF_TYPE_HW_CACHE) and \
                        e.errno in (_ENOENT, _EOPNOTSUPP):
                    raise NotSupportedError(
                        "hardware perf counters are not available on this machine "
                        "(virtualised?)", feature="hardware perf events",
                        alternative="the software cpu-clock event "
                                    "(PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_CLOCK)",
                        err=e.errno) from None
                raise AttachError(f"opening {what} on CPU {c}", e.errno) from None
            links.append(attach_perf_fd(prog_fd, pfd, f"{what} cpu {c}", cookie=cookie))
    except BaseException:
        for link in links:
            link.close()
        raise
    return combine(what, links)


def combine(description, links):
    """One Link owning the fds of several (their closing detaches all)."""
    fds, cleanups = [], []
    for link in links:
        fds.extend(link.fds)
        cleanups.extend(link._cleanups)
        link._fds, link._cleanups, link.closed = [], [], True
    return Link(description, fds, cleanups, bpf_link=False)
