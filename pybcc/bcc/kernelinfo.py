"""BPF's static questions about the running kernel and symbols: syscall
function names, kprobe-able functions, tracepoints, feature support, kernel
types (from BTF), symbol lookups and the monotonic clock.

Every support_* answer comes from pybcc.kernel.features, which tries the
real operation once per process: no guessing from kallsyms.
"""
import os
import re
import time

from .. import symbols
from ..kernel import features, tracefs
from ..kernel.uapi import ProgType
from .text import as_bytes, as_str

SYSCALL_PREFIXES = ("sys_", "__x64_sys_", "__x32_compat_sys_", "__ia32_compat_sys_",
                    "__arm64_sys_", "__s390x_sys_", "__s390_sys_", "__riscv_sys_")
# Never probe-able, or probing them would recurse into the tracer.
_SKIP_PREFIXES = ("_kbl_addr_", "__perf", "perf_", "__SCT__", "bpf_trace_", "__bpf_trace",
                  "__traceiter_", "__probestub_")
_syscall_prefix = None
_build_id_modules = {}      # build id (bytes) → path, from add_module()


def _read_lines(path):
    try:
        with open(path) as f:
            return f.read().splitlines()
    except OSError:
        return None


def _kernel_version():
    nums = re.findall(r"\d+", os.uname().release)[:2]
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
        return as_bytes(_syscall_prefix)

    @staticmethod
    def get_syscall_fnname(name):
        """The kernel function of syscall ``name`` (b"clone" → b"__x64_sys_clone")."""
        return KernelInfo.get_syscall_prefix() + as_bytes(name)

    @staticmethod
    def get_kprobe_functions(event_re):
        """The set of kernel functions (bytes) whose whole name matches the
        regular expression, from /proc/kallsyms, minus the kprobe blacklist.
        Empty where this kernel has no kprobes, as bcc's list is empty where
        nothing can be probed, so scripts take their tracepoint paths.
        Unlike bcc, functions missing from available_filter_functions are
        kept: kprobes do not need ftrace (e.g. __x64_sys_getpid is not
        ftrace-able on 6.1 but kprobes attach to it)."""
        if not features.has_kprobes():
            return set()
        rx = re.compile(as_str(event_re))
        names = symbols.kernel_symbols().functions(rx.pattern)
        black = set()
        for path in ("/sys/kernel/debug/kprobes/blacklist",
                     os.path.join(tracefs.mount_point(), "..", "debug", "kprobes", "blacklist")):
            lines = _read_lines(path)
            if lines:
                black = {ln.split()[1] for ln in lines if len(ln.split()) > 1}
                break
        return {as_bytes(n) for n in names if rx.fullmatch(n) and
                not n.startswith(_SKIP_PREFIXES) and n not in black and ".cold" not in n}

    @staticmethod
    def tracepoint_exists(category, event):
        return tracefs.tracepoint_exists(as_str(category), as_str(event))

    @staticmethod
    def get_tracepoints(tp_re):
        """Tracepoints b"category:name" matching the regular expression (re.match)."""
        rx = re.compile(as_str(tp_re))
        return [as_bytes(tp) for tp in tracefs.list_tracepoints() if rx.match(tp)]

    # --- what this kernel supports ---------------------------------------------------

    @staticmethod
    def support_kprobe():
        return features.has_kprobes()

    @staticmethod
    def support_kfunc():
        """fentry/fexit programs load and attach here."""
        return features.has_fentry()

    @staticmethod
    def support_fmod_ret():
        """BPF_MODIFY_RETURN programs load and attach here (they need trampolines)."""
        return features.has_fentry() and \
            KernelInfo.kernel_enum_has_val("bpf_attach_type", "BPF_MODIFY_RETURN")

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

    _sym_caches = {}

    @staticmethod
    def _sym_cache(pid):
        """bcc's per-pid SymbolCache (any negative pid: the kernel's)."""
        from .symcache import SymbolCache
        pid = -1 if pid < 0 else pid
        cache = KernelInfo._sym_caches.get(pid)
        if cache is None:
            cache = KernelInfo._sym_caches[pid] = SymbolCache(pid)
        return cache

    @staticmethod
    def ksym(addr, show_module=False, show_offset=False):
        """Kernel address → b"name" (b"name+0x1a", b"name [kernel]"); b"[unknown]"."""
        return as_bytes(symbols.ksym(addr, show_module, show_offset))

    @staticmethod
    def ksymname(name):
        """Kernel symbol → address, -1 if absent."""
        return symbols.ksymname(as_str(name))

    @staticmethod
    def sym(addr, pid, show_module=False, show_offset=False, demangle=True):
        """User address of process ``pid`` (negative: kernel) → b"name". A
        frame of a build-id stack (BPF_STACK_TRACE_BUILDID) is resolved
        through the modules given to add_module()."""
        if isinstance(addr, tuple) or hasattr(addr, "build_id"):
            return as_bytes(_build_id_sym(addr, show_module, show_offset))
        if pid is None or pid < 0:
            return KernelInfo.ksym(addr, show_module, show_offset)
        return as_bytes(symbols.sym(addr, pid, show_module, show_offset, demangle))

    @staticmethod
    def find_library(libname, pid=0):
        return as_bytes(symbols.find_library(as_str(libname), pid or None))

    @staticmethod
    def find_exe(bin_path):
        return as_bytes(symbols.find_binary(as_str(bin_path)))

    @staticmethod
    def get_user_functions_and_addresses(name, sym_re):
        """[(b"name", link-time address)] of functions of binary/library
        ``name`` matching ``sym_re``."""
        path = symbols.resolve_module(as_str(name))
        if path is None:
            raise ValueError(f"can't find library or program {as_str(name)!r}")
        return [(as_bytes(s.name), s.vaddr) for s in symbols.load_elf(path).match(as_str(sym_re))]

    @staticmethod
    def get_user_functions(name, sym_re):
        return {n for n, _ in KernelInfo.get_user_functions_and_addresses(name, sym_re)}

    @staticmethod
    def get_user_addresses(name, sym_re):
        return {a for _, a in KernelInfo.get_user_functions_and_addresses(name, sym_re)}

    @staticmethod
    def add_module(modname):
        """Make a binary or library known to sym() for build-id stacks
        (kernel modules: kallsyms has them all already)."""
        path = symbols.resolve_module(as_str(modname))
        if path is None:
            return False
        build_id = symbols.load_elf(path).build_id
        if build_id:
            _build_id_modules[bytes.fromhex(build_id).ljust(20, b"\0")] = path
        return True

    @staticmethod
    def monotonic_time():
        """CLOCK_MONOTONIC in nanoseconds: the clock of bpf_ktime_get_ns()."""
        return time.clock_gettime_ns(time.CLOCK_MONOTONIC)


def _build_id_sym(frame, show_module, show_offset):
    """sym() of one build-id frame: (status, build id, offset) or an object
    with .status, .build_id and .offset."""
    if isinstance(frame, tuple):
        status, build_id, offset = frame
    else:
        status, build_id, offset = frame.status, bytes(frame.build_id), frame.offset
    path = _build_id_modules.get(bytes(build_id).ljust(20, b"\0"))
    if status != 1 or path is None:        # BPF_STACK_BUILD_ID_VALID
        return symbols.format_symbol(None, offset, None, show_module, show_offset)
    syms = symbols.load_elf(path)
    hit = syms.lookup(syms.offset_to_vaddr(offset))
    if hit is None:
        return symbols.format_symbol(None, offset, path, show_module, show_offset)
    name, off = hit
    return symbols.format_symbol(name, off, path, show_module, show_offset)
