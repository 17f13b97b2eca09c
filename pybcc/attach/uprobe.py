"""uprobes and uretprobes on user binaries, by symbol, address or file offset.

Uses the uprobe PMU (perf_event_open with the uprobe type), whose probe goes
away with its fd; tracefs uprobe_events only when the PMU is missing.
"""
import ctypes
import os

from ..errors import AttachError, BPFError, NotSupportedError
from ..kernel import features, bpf, tracefs
from ..kernel.uapi import AttachType, BPF_F_UPROBE_MULTI_RETURN, PERF_TYPE_TRACEPOINT
from . import elf
from .link import Link
from .perf import attach_perf_fd, perf_open


def resolve(path, symbol=None, offset=0, address=None):
    """(binary path, file offset) of symbol+offset, or of a virtual address."""
    path = elf.find_binary(path)
    if address is not None:
        return path, elf.address_offset(path, address) + offset
    if symbol:
        return path, elf.symbol_offset(path, symbol) + offset
    return path, offset


def _what(retprobe, path, symbol, off, pid):
    kind = "uretprobe" if retprobe else "uprobe"
    where = f"{symbol}" if symbol else f"{off:#x}"
    return f"{kind} {path}:{where}" + (f" (pid {pid})" if pid > 0 else "")


def attach_uprobe(prog_fd, path, symbol=None, offset=0, address=None, retprobe=False,
                  pid=-1, ref_ctr_offset=0, cookie=0):
    """Attach to user function ``symbol`` (+``offset``) in ``path``, or at
    virtual ``address``, or at file ``offset`` alone. ``pid`` > 0 limits it
    to one process; ``ref_ctr_offset`` is the file offset of a USDT semaphore
    the kernel increments while the probe exists."""
    path, off = resolve(path, symbol, offset, address)
    what = _what(retprobe, path, symbol, off, pid)
    _refuse_unsafe_instruction(path, off, what)
    if features.has_uprobe_pmu():
        return _attach_pmu(prog_fd, path, off, retprobe, pid, ref_ctr_offset, cookie, what)
    if tracefs.has_probe_events("uprobe"):
        return attach_uprobe_tracefs(prog_fd, path, off, retprobe, pid, ref_ctr_offset,
                                     cookie, what)
    raise NotSupportedError("uprobes are not available on this kernel (CONFIG_UPROBE_EVENTS off?)",
                            feature="uprobe")


def attach_uretprobe(prog_fd, path, symbol=None, **kw):
    return attach_uprobe(prog_fd, path, symbol, retprobe=True, **kw)


# x86-64 EVEX prefix (AVX-512). Seen here: a uprobe on glibc's
# __memset_avx512_unaligned_erms, which starts with an EVEX instruction, made
# every process on the machine crash; the kernel accepts the probe anyway.
_EVEX = 0x62


def _refuse_unsafe_instruction(path, off, what):
    """Raise AttachError for a probe point whose instruction uprobes mangle."""
    if os.uname().machine != "x86_64":     # (platform costs a start ~4 ms)
        return
    try:
        with open(path, "rb") as f:
            f.seek(off)
            first = f.read(1)
    except OSError:
        return  # the kernel will say what is wrong with the path
    if first and first[0] == _EVEX:
        raise AttachError(f"refusing {what}: the instruction there is an AVX-512 (EVEX) one, "
                          f"which uprobes single-step wrongly (processes crash); probe the "
                          f"caller, or another implementation of the function")


def _open_args(pid):
    # One event for all CPUs: pid -1 needs a cpu, a pid needs cpu -1.
    return dict(pid=pid, cpu=-1) if pid > 0 else dict(pid=-1, cpu=0)


def _attach_pmu(prog_fd, path, off, retprobe, pid, ref_ctr_offset, cookie, what):
    config = 0
    if retprobe:
        word, bit = features.pmu_format("uprobe", "retprobe") or ("config", 0)
        config |= 1 << bit
    if ref_ctr_offset:
        fmt = features.pmu_format("uprobe", "ref_ctr_offset")
        if fmt is None:
            raise NotSupportedError("USDT semaphores (uprobe ref_ctr_offset) need Linux 4.20",
                                    feature="uprobe ref_ctr_offset")
        config |= ref_ctr_offset << fmt[1]
    cpath = ctypes.create_string_buffer(path.encode())
    try:
        pfd = perf_open(type=features.pmu_type("uprobe"), config=config,
                        config1=ctypes.addressof(cpath), config2=off, sample_period=1,
                        wakeup_events=1, **_open_args(pid))
    except BPFError as e:
        raise AttachError(f"creating {what}", e.errno) from None
    return attach_perf_fd(prog_fd, pfd, what, cookie=cookie)


def attach_uprobe_tracefs(prog_fd, path, off, retprobe=False, pid=-1, ref_ctr_offset=0,
                          cookie=0, what=None):
    """The fallback through tracefs uprobe_events (the event is removed on
    close; tracefs.remove_stale_probe_events cleans after killed processes)."""
    what = what or _what(retprobe, path, None, off, pid)
    name = tracefs.probe_event_name(retprobe, path.rsplit("/", 1)[-1] + f"_{off:x}")
    target = f"{path}:{off:#x}" + (f"({ref_ctr_offset:#x})" if ref_ctr_offset else "")
    try:
        tp_id = tracefs.add_probe_event("uprobe", name, target, retprobe)
    except BPFError as e:
        raise AttachError(f"creating {what} in tracefs", e.errno) from None

    def remove():
        tracefs.remove_probe_event("uprobe", name)
    try:
        pfd = perf_open(type=PERF_TYPE_TRACEPOINT, config=tp_id, sample_period=1,
                        wakeup_events=1, **_open_args(pid))
    except BPFError as e:
        remove()
        raise AttachError(f"opening {what}", e.errno) from None
    return attach_perf_fd(prog_fd, pfd, what, cleanups=[remove], cookie=cookie)


def attach_uprobe_multi(prog_fd, path, symbols=None, offsets=None, retprobe=False, pid=-1,
                        ref_ctr_offsets=None, cookies=None):
    """One link on many places of one binary (Linux 6.6): ``symbols`` is a
    list of names or a regex, ``offsets`` a list of file offsets. The program
    must be loaded with expected_attach_type TRACE_UPROBE_MULTI."""
    path = elf.find_binary(path)
    if isinstance(symbols, str):
        symbols = elf.match_symbols(path, symbols)
        if not symbols:
            raise AttachError(f"uprobe_multi: no function of {path} matches")
    offs = list(offsets or []) + [elf.symbol_offset(path, s) for s in symbols or []]
    if not offs:
        raise AttachError("uprobe_multi: give symbols or offsets")
    kind = "uretprobe_multi" if retprobe else "uprobe_multi"
    what = f"{kind} {path} ({len(offs)} places)" + (f" (pid {pid})" if pid > 0 else "")
    for off in offs:
        _refuse_unsafe_instruction(path, off, f"{kind} {path}:{off:#x}")
    if not features.has_uprobe_multi():
        raise NotSupportedError(f"{kind} links are not available on this kernel (Linux 6.6+)",
                                feature="uprobe_multi",
                                alternative="one uprobe per place (attach_uprobe)")

    def u64s(values):
        return (ctypes.c_uint64 * len(values))(*values) if values else None
    cpath = ctypes.create_string_buffer(path.encode())
    arrays = [u64s(offs), u64s(ref_ctr_offsets), u64s(cookies)]
    addr = [ctypes.addressof(a) if a is not None else None for a in arrays]
    try:
        fd = bpf.link_create(
            prog_fd, 0, AttachType.TRACE_UPROBE_MULTI, uprobe_multi_path=ctypes.addressof(cpath),
            uprobe_multi_offsets=addr[0], uprobe_multi_ref_ctr_offsets=addr[1],
            uprobe_multi_cookies=addr[2], uprobe_multi_cnt=len(offs),
            uprobe_multi_flags=BPF_F_UPROBE_MULTI_RETURN if retprobe else 0,
            uprobe_multi_pid=pid if pid > 0 else 0)
    except BPFError as e:
        raise AttachError(f"attaching {what}", e.errno) from None
    return Link(what, [fd], bpf_link=True)
