"""The kernel functions dcstat and dcsnoop probe, as bcc's do: lookup_fast
(a dcache reference per path component; the compiler may have renamed it
lookup_fast.constprop.N) and d_lookup (the slow lookup; NULL is a miss).
The dcache has no tracepoints, so without kprobes the tools refuse in one
line."""
import re

from ...errors import NotSupportedError
from ...kernel import features

LOOKUP_FAST = re.compile(r"^lookup_fast(\.constprop\.\d+)?$")


def require_kprobes(tool):
    if not features.has_kprobes():
        raise NotSupportedError(
            f"{tool} needs kprobes on lookup_fast() and d_lookup() (the dcache has no "
            f"tracepoints) and this kernel has no kprobes (CONFIG_KPROBES off?)",
            feature="kprobe")


def lookup_fast_symbol():
    """lookup_fast's name in /proc/kallsyms."""
    with open("/proc/kallsyms") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 3 and parts[1] in "tT" and LOOKUP_FAST.match(parts[2]):
                return parts[2]
    raise NotSupportedError("lookup_fast() is not in /proc/kallsyms (inlined in this kernel?)",
                            feature="kprobe")
