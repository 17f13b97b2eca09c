"""kprobes and kretprobes on kernel functions, and kprobe_multi links.

Prefers the kprobe PMU (the probe lives as long as its fd); falls back to
tracefs kprobe_events; raises NotSupportedError naming fentry or a tracepoint
when the kernel has no kprobes at all (CONFIG_KPROBES off).
"""
import ctypes
import fnmatch
import functools

from ..errors import AttachError, BPFError, NotSupportedError
from ..kernel import features, bpf, tracefs
from ..kernel.uapi import AttachType, BPF_F_KPROBE_MULTI_RETURN, PERF_TYPE_TRACEPOINT
from . import alternatives
from .link import Link
from .perf import attach_perf_fd, perf_open

_ENOENT, _EINVAL = 2, 22


def _not_supported(func):
    return NotSupportedError(
        "kprobes are not available on this kernel (CONFIG_KPROBES off?)",
        feature="kprobe", alternative=alternatives.instead_of_kprobe(func))


def attach_kprobe(prog_fd, func, offset=0, retprobe=False, maxactive=0, cookie=0,
                  bpf_link=True):
    """Attach a KPROBE program to kernel function ``func`` (+``offset``), or
    to its return with retprobe=True (``maxactive``: tracefs fallback only;
    ``bpf_link``: see attach_perf_fd)."""
    kind = "kretprobe" if retprobe else "kprobe"
    what = f"{kind} {func}" + (f"+{offset:#x}" if offset else "")
    if features.has_kprobe_pmu() and not maxactive:
        return _attach_pmu(prog_fd, func, offset, retprobe, cookie, what, bpf_link)
    if tracefs.has_probe_events("kprobe"):
        return attach_kprobe_tracefs(prog_fd, func, offset, retprobe, maxactive, cookie, what,
                                     bpf_link)
    if features.has_kprobe_pmu():
        return _attach_pmu(prog_fd, func, offset, retprobe, cookie, what, bpf_link)
    raise _not_supported(func)


def attach_kretprobe(prog_fd, func, maxactive=0, cookie=0, bpf_link=True):
    return attach_kprobe(prog_fd, func, retprobe=True, maxactive=maxactive, cookie=cookie,
                         bpf_link=bpf_link)


def _explain(e, what, func):
    if e.errno in (_ENOENT, _EINVAL):
        return AttachError(f"cannot create {what}: {func} is not a probeable kernel "
                           f"function (unknown, inlined or marked notrace)", e.errno)
    return AttachError(f"creating {what}", e.errno)


def _attach_pmu(prog_fd, func, offset, retprobe, cookie, what, bpf_link=True):
    config = 0
    if retprobe:
        word, bit = features.pmu_format("kprobe", "retprobe") or ("config", 0)
        config |= 1 << bit
    cfunc = ctypes.create_string_buffer(func.encode())
    try:
        pfd = perf_open(type=features.pmu_type("kprobe"), config=config,
                        config1=ctypes.addressof(cfunc), config2=offset,
                        sample_period=1, wakeup_events=1)
    except BPFError as e:
        raise _explain(e, what, func) from None
    return attach_perf_fd(prog_fd, pfd, what, cookie=cookie, bpf_link=bpf_link)


def attach_kprobe_tracefs(prog_fd, func, offset=0, retprobe=False, maxactive=0, cookie=0,
                          what=None, bpf_link=True):
    """The fallback through tracefs kprobe_events."""
    what = what or f"{'kretprobe' if retprobe else 'kprobe'} {func}"
    name = tracefs.probe_event_name(retprobe, func)
    target = func + (f"+{offset}" if offset else "")
    try:
        tp_id = tracefs.add_probe_event("kprobe", name, target, retprobe, maxactive)
    except BPFError as e:
        raise _explain(e, what, func) from None

    def remove():
        tracefs.remove_probe_event("kprobe", name)
    try:
        pfd = perf_open(type=PERF_TYPE_TRACEPOINT, config=tp_id, sample_period=1,
                        wakeup_events=1)
    except BPFError as e:
        remove()
        raise AttachError(f"opening {what}", e.errno) from None
    return attach_perf_fd(prog_fd, pfd, what, cleanups=[remove], cookie=cookie,
                          bpf_link=bpf_link)


def kernel_functions(pattern):
    """Text symbols of /proc/kallsyms matching an fnmatch pattern."""
    out = []
    with open("/proc/kallsyms") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 3 and parts[1] in "tT" and fnmatch.fnmatchcase(parts[2], pattern):
                out.append(parts[2])
    return sorted(set(out))


@functools.lru_cache(maxsize=None)
def syscall_prefix():
    """How this kernel names syscall entry functions: "__x64_sys_" on x86_64
    since 4.17, "__arm64_sys_" on arm64, "sys_" before."""
    names = {}
    with open("/proc/kallsyms") as f:
        for line in f:
            name = line.rstrip("\n").split(" ", 2)[-1]
            if name.endswith("sys_bpf"):
                names[name] = True
    for prefix in ("__x64_sys_", "__arm64_sys_", "__s390x_sys_", "sys_"):
        if prefix + "bpf" in names:
            return prefix
    return "sys_"


def syscall_function(name):
    """Kernel function of syscall ``name`` ("openat" → "__x64_sys_openat")."""
    return syscall_prefix() + name


def attach_kprobe_multi(prog_fd, funcs, retprobe=False, cookies=None):
    """One link on many kernel functions (a list of names, or one fnmatch
    pattern). The program must be loaded with expected_attach_type
    TRACE_KPROBE_MULTI."""
    if isinstance(funcs, str):
        funcs = kernel_functions(funcs) if any(c in funcs for c in "*?[") else [funcs]
    if not funcs:
        raise AttachError("kprobe_multi: no kernel function matches")
    what = f"kprobe_multi ({len(funcs)} functions: {', '.join(funcs[:3])}" + \
        ("...)" if len(funcs) > 3 else ")")
    if not features.has_kprobe_multi():
        if features.has_kprobes():
            alt = "one kprobe per function (attach_kprobe)"
        else:
            alt = alternatives.instead_of_kprobe(funcs[0])
        raise NotSupportedError("kprobe_multi links are not available on this kernel "
                                "(needs Linux 5.18 with CONFIG_FPROBE)",
                                feature="kprobe_multi", alternative=alt)
    names = [ctypes.create_string_buffer(f.encode()) for f in funcs]
    syms = (ctypes.c_uint64 * len(names))(*[ctypes.addressof(n) for n in names])
    cks = (ctypes.c_uint64 * len(funcs))(*cookies) if cookies else None
    try:
        fd = bpf.link_create(
            prog_fd, 0, AttachType.TRACE_KPROBE_MULTI,
            kprobe_multi_flags=BPF_F_KPROBE_MULTI_RETURN if retprobe else 0,
            kprobe_multi_cnt=len(funcs), kprobe_multi_syms=ctypes.addressof(syms),
            kprobe_multi_cookies=ctypes.addressof(cks) if cks is not None else None)
    except BPFError as e:
        raise AttachError(f"attaching {what}", e.errno) from None
    return Link(what, [fd], bpf_link=True)
