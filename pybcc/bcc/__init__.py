"""bcc's Python API on pybcc: ``from bcc import BPF`` scripts run unchanged
(through `pybcc run SCRIPT`, or ``from pybcc.bcc import BPF``).

Modules, one concept each:
  bpf.py         the BPF class: build, load, tables, buffers, lifetime
  source.py      C text → rewritten C → cached object (+ what to auto-attach)
  probes.py      attach_*/detach_* methods
  kernelinfo.py  static queries: syscall names, kernel functions, tracepoints,
                 support_*, kernel BTF types, ksym/sym
  tracepipe.py   trace_print / trace_fields / trace_readline
  table.py       bcc's table classes (HashTable, Array, PerCpuHash, ...)
  text.py        bytes and str at the API's edge (bcc returns bytes)
  fallbacks.py   the tracepoint that stands in for a kprobe where kprobes are missing
  constants.py   BPF program types, PerfType, PerfSWConfig, PerfHWConfig, ...
  utils.py, containers.py, syscall.py, tcp.py, usdt.py, exec.py, version.py:
                 bcc's helper modules
  ctext.py       bcc's text form of table keys and values (key_sprintf, ...)
  perf.py        bcc.perf: Perf.perf_event_attr, Perf.perf_event_open
  symcache.py    SymbolCache (resolve, resolve_name)
  shared_tables.py  BPF_TABLE_PUBLIC/SHARED tables that "extern" tables of
                 other BPF objects of the process use
  libbcc.py, libbcc_usdt.py  bcc.libbcc's entries, emulated
"""
from .bpf import BPF  # noqa: F401
from .constants import (DEBUG_BPF, DEBUG_BPF_REGISTER_STATE, DEBUG_BTF,  # noqa: F401
                        DEBUG_LLVM_IR, DEBUG_PREPROCESSOR, DEBUG_SOURCE, BPFAttachType,
                        BPFProgType, PerfEventSampleFormat, PerfHWConfig, PerfSWConfig,
                        PerfType, XDPAction, XDPFlags)
from .perf import Perf  # noqa: F401
from .probes import get_num_open_probes as _get_num_open_probes  # noqa: F401
from .symcache import SymbolCache  # noqa: F401
from .utils import ArgString, StrcmpRewrite, printb  # noqa: F401
from .version import __version__  # noqa: F401

TRACEFS = "/sys/kernel/tracing"
DEBUGFS = "/sys/kernel/debug"

# `from bcc import *` gives what it gave before USDT became lazy.
__all__ = [k for k in list(globals()) if not k.startswith("_")] + ["USDT", "USDTException"]


def __getattr__(name):
    # USDT support (pybcc.usdt: ELF notes, argument parsing) is imported only
    # by the scripts that use it: `from bcc import USDT` still works.
    if name in ("USDT", "USDTException"):
        from . import usdt
        return getattr(usdt, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
