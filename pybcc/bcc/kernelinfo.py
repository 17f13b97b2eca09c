"""BPF's static questions about the running kernel and symbols: syscall
function names, kprobe-able functions, tracepoints, feature support, kernel
types (from BTF), symbol lookups and the monotonic clock.

Every support_* answer comes from pybcc.kernel.features, which tries the
real operation once per process: no guessing from kallsyms.
"""
import os
import platform
import re
import time

from .. import symbols
from ..kernel import features, tracefs
from ..kernel.uapi import ProgType
from .text import Text, as_str, text

SYSCALL_PREFIXES = ("sys_", "__x64_sys_", "__x32_compat_sys_", "__ia32_compat_sys_",
                    "__arm64_sys_", "__s390x_sys_", "__s390_sys_", "__riscv_sys_")
# Never probe-able, or probing them would recurse into the tracer.
_SKIP_PREFIXES = ("_kbl_addr_", "__perf", "perf_", "__SCT__", "bpf_trace_", "__bpf_trace",
                  "__traceiter_", "__probestub_")
_syscall_prefix = None


def _read_lines(path):
    try:
        with open(path) as f:
            return f.read().splitlines()
    except OSError:
        return None


def _kernel_version():
    nums = re.findall(r"\d+", platform.release())[:2]
    return tuple(int(n) for n in nums)


class KernelInfo:
    """Mixed into BPF: these are all static methods, as in bcc."""

    @staticmethod
    def get_syscall_prefix():
        """The prefix of syscall entry functions in this kernel ("__x64_sys_")."""
        global _syscall_prefix
        if _syscall_prefix is None:
            _syscall_prefix = "sys_"
            for prefix in SYSCALL_PREFIXES:
                if symbols.ksymname(prefix + "bpf") != -1:
                    _syscall_prefix = prefix
                    break
        return Text(_syscall_prefix)

    @staticmethod
    def get_syscall_fnname(name):
        """The kernel function of syscall ``name`` ("clone" → "__x64_sys_clone")."""
        return Text(KernelInfo.get_syscall_prefix() + as_str(name))

    @staticmethod
    def get_kprobe_functions(event_re):
        """Kernel functions matching the regular expression (re.match), from
        /proc/kallsyms, minus the kprobe blacklist. Unlike bcc, functions
        missing from available_filter_functions are kept: kprobes do not
        need ftrace (e.g. __x64_sys_getpid is not ftrace-able on 6.1 but
        kprobes attach to it). A kernel without kprobes still has a list:
        BPF.support_kprobe() says whether anything can be probed."""
        event_re = as_str(event_re)
        names = symbols.kernel_symbols().functions(event_re)
        black = set()
        for path in ("/sys/kernel/debug/kprobes/blacklist",
                     os.path.join(tracefs.mount_point(), "..", "debug", "kprobes", "blacklist")):
            lines = _read_lines(path)
            if lines:
                black = {ln.split()[1] for ln in lines if len(ln.split()) > 1}
                break
        return [Text(n) for n in names if not n.startswith(_SKIP_PREFIXES) and n not in black]

    @staticmethod
    def tracepoint_exists(category, event):
        return tracefs.tracepoint_exists(as_str(category), as_str(event))

    @staticmethod
    def get_tracepoints(tp_re):
        """Tracepoints "category:name" matching the regular expression (re.match)."""
        rx = re.compile(as_str(tp_re))
        return [Text(tp) for tp in tracefs.list_tracepoints() if rx.match(tp)]

    # --- what this kernel supports ---------------------------------------------------

    @staticmethod
    def support_kprobe():
        return features.has_kprobes()

    @staticmethod
    def support_kfunc():
        """fentry/fexit programs load and attach here."""
        return features.has_fentry()

    @staticmethod
    def support_lsm():
        return features.has_lsm()

    @staticmethod
    def support_raw_tracepoint():
        return features.prog_type_supported(ProgType.RAW_TRACEPOINT)

    @staticmethod
    def support_raw_tracepoint_in_module():
        """Raw tracepoints defined in kernel modules (Linux 5.5)."""
        return KernelInfo.support_raw_tracepoint() and _kernel_version() >= (5, 5)

    @staticmethod
    def support_tp_btf():
        return features.has_tp_btf()

    @staticmethod
    def support_ringbuf():
        return features.has_ringbuf()

    # --- kernel types, from BTF ---------------------------------------------------

    @staticmethod
    def kernel_struct_has_field(struct_name, field_name):
        """Whether the kernel's struct (or union) has the field (anonymous
        members searched too)."""
        from ..btf import BTF
        from ..btf import types as bt
        btf = BTF.kernel()
        want = as_str(field_name)

        def has(t, depth=0):
            for m in t.members:
                if m.name == want:
                    return True
                if not m.name and depth < 8:
                    inner = btf.strip(m.type)
                    if inner.kind in (bt.STRUCT, bt.UNION) and has(inner, depth + 1):
                        return True
            return False
        return any(has(t) for t in btf.find_all(as_str(struct_name), (bt.STRUCT, bt.UNION)))

    @staticmethod
    def kernel_enum_has_val(enum_name, value_name):
        """Whether the kernel's enum has a value of that name."""
        from ..btf import BTF
        from ..btf import types as bt
        want = as_str(value_name)
        return any(any(v.name == want for v in t.members)
                   for t in BTF.kernel().find_all(as_str(enum_name), (bt.ENUM, bt.ENUM64)))

    # --- symbols -------------------------------------------------------------------

    @staticmethod
    def ksym(addr, show_module=False, show_offset=False):
        """Kernel address → "name" ("name+0x1a", "name [kernel]"); "[unknown]"."""
        return Text(symbols.ksym(addr, show_module, show_offset))

    @staticmethod
    def ksymname(name):
        """Kernel symbol → address, -1 if absent."""
        return symbols.ksymname(as_str(name))

    @staticmethod
    def sym(addr, pid, show_module=False, show_offset=False, demangle=True):
        """User address of process ``pid`` (negative: kernel) → name."""
        if pid is None or pid < 0:
            return KernelInfo.ksym(addr, show_module, show_offset)
        return Text(symbols.sym(addr, pid, show_module, show_offset, demangle))

    @staticmethod
    def find_library(libname):
        return text(symbols.find_library(as_str(libname)))

    @staticmethod
    def find_exe(bin_path):
        return text(symbols.find_binary(as_str(bin_path)))

    @staticmethod
    def get_user_functions_and_addresses(name, sym_re):
        """[(name, link-time address)] of functions of binary/library ``name``
        matching ``sym_re``."""
        path = symbols.resolve_module(as_str(name))
        if path is None:
            raise ValueError(f"can't find library or program {as_str(name)!r}")
        return [(Text(s.name), s.vaddr) for s in symbols.load_elf(path).match(as_str(sym_re))]

    @staticmethod
    def get_user_functions(name, sym_re):
        return [n for n, _ in KernelInfo.get_user_functions_and_addresses(name, sym_re)]

    @staticmethod
    def get_user_addresses(name, sym_re):
        return [a for _, a in KernelInfo.get_user_functions_and_addresses(name, sym_re)]

    @staticmethod
    def add_module(modname):
        """bcc loads a module's symbols on demand; kallsyms has them all here."""
        return True

    @staticmethod
    def monotonic_time():
        """CLOCK_MONOTONIC in nanoseconds: the clock of bpf_ktime_get_ns()."""
        return time.clock_gettime_ns(time.CLOCK_MONOTONIC)
