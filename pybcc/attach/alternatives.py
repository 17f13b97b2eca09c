"""What to suggest instead when a kernel function cannot be probed.

Order of preference: kprobe → fentry → a tracepoint covering the same event.
"""
import re

from ..errors import BPFError
from ..kernel import features, tracefs

# __x64_sys_openat, __arm64_sys_read, __se_sys_write, ksys_read, do_sys_openat2 ...
# (compiled when first matched, by re's cache: not at every tool's start)
_SYSCALL_FUNC = r"^(?:__x64_|__ia32_|__arm64_|__se_|__do_)?(?:k|do_)?sys_(\w+?)\d*$"


def tracepoint_for_function(func):
    """A tracepoint close to kernel function ``func`` ("cat:name"), or None."""
    try:
        tps = tracefs.list_tracepoints()
    except (OSError, BPFError):
        return None
    for tp in tps:                         # same name in some category
        if tp.split(":", 1)[1] == func:
            return tp
    m = re.match(_SYSCALL_FUNC, func)
    if m:
        for name in (m.group(1), func.split("sys_", 1)[1]):
            tp = f"syscalls:sys_enter_{name}"
            if tp in tps:
                return tp
    return None


def _tracepoint_text(func):
    tp = tracepoint_for_function(func) if func else None
    if tp:
        return f"a tracepoint (t:{tp}) or its tp_btf form"
    return "a tracepoint (t:CATEGORY:NAME, see `pybcc tplist`) or tp_btf"


def instead_of_kprobe(func=""):
    if features.has_fentry():
        return f"fentry (f:{func or 'FUNC'})"
    return _tracepoint_text(func)


def instead_of_fentry(func=""):
    if features.has_kprobes():
        return f"a kprobe (p:{func or 'FUNC'})"
    return _tracepoint_text(func)
