"""The BPF class: bcc's entry point.

    b = BPF(text=C)        rewrite (bcc dialect) → compile (cached) → load maps
                           → attach kprobe__*/tracepoint__*/... functions
    b["counts"]            a table (table.py)
    b.attach_*(...)        probes.py
    b.trace_print()        tracepipe.py
    b.ksym(addr), ...      kernelinfo.py (static)
    b.perf_buffer_poll()   perf/ring buffers opened through tables

Programs are loaded on first use (load_func or an attach_* call), each with
the program type the caller asks for, as bcc does.
"""
import atexit
import ctypes as ct
import re
import weakref

from .. import loader, sections
from ..errors import BPFError, LoadError, NotSupportedError, VerifierError
from ..kernel import features
from ..elf_reader import load_spec
from . import shared_tables, source
from .constants import BPFAttachType, BPFProgType
from .kernelinfo import KernelInfo
from .probes import Probes, _kfunc_target
from .table import Table
from .text import as_str
from .tracepipe import TracePipe

# Program type → the section convention it is loaded as.
_SECTION_OF_TYPE = {
    BPFProgType.SOCKET_FILTER: "socket",
    BPFProgType.KPROBE: "kprobe/",
    BPFProgType.SCHED_CLS: "tc",
    BPFProgType.SCHED_ACT: "action",
    BPFProgType.TRACEPOINT: "tracepoint/",
    BPFProgType.XDP: "xdp",
    BPFProgType.PERF_EVENT: "perf_event",
    BPFProgType.CGROUP_SKB: "cgroup/skb",
    BPFProgType.CGROUP_SOCK: "cgroup/sock",
    BPFProgType.SOCK_OPS: "sockops",
    BPFProgType.SK_SKB: "sk_skb",
    BPFProgType.CGROUP_DEVICE: "cgroup/dev",
    BPFProgType.SK_MSG: "sk_msg",
    BPFProgType.RAW_TRACEPOINT: "raw_tp/",
    BPFProgType.CGROUP_SOCK_ADDR: "cgroup/connect4",
    BPFProgType.CGROUP_SYSCTL: "cgroup/sysctl",
    BPFProgType.CGROUP_SOCKOPT: "cgroup/getsockopt",
    BPFProgType.LSM: "lsm/",
    BPFProgType.SK_LOOKUP: "sk_lookup",
}
_TRACING_SECTION = {BPFAttachType.TRACE_FENTRY: "fentry/", BPFAttachType.TRACE_FEXIT: "fexit/",
                    BPFAttachType.TRACE_RAW_TP: "tp_btf/",
                    BPFAttachType.MODIFY_RETURN: "fmod_ret/"}


def _polled_with(poller, reader):
    """``poller`` (a new one when None) now waiting on ``reader`` too: perf
    buffers share one poller, ring buffers another, as bcc polls them apart."""
    from ..events import Poller
    if poller is None:
        poller = Poller(owns=False)
    poller.add(reader)
    return poller


def _close_reader(readers, name, poller):
    """Close the reader of table ``name`` in ``readers``, if open, and stop
    ``poller`` waiting on it."""
    reader = readers.pop(name, None)
    if reader is not None:
        if poller is not None:
            poller.remove(reader)
        reader.close()


class BPF(KernelInfo, Probes, TracePipe):
    """Compile, load and attach a BPF program written in C."""

    # program types (BPF.KPROBE, ...: set below), XDP actions and flags
    XDP_ABORTED, XDP_DROP, XDP_PASS, XDP_TX, XDP_REDIRECT = range(5)
    XDP_FLAGS_UPDATE_IF_NOEXIST = 1 << 0
    XDP_FLAGS_SKB_MODE = 1 << 1
    XDP_FLAGS_DRV_MODE = 1 << 2
    XDP_FLAGS_HW_MODE = 1 << 3
    XDP_FLAGS_REPLACE = 1 << 4
    TRACE_FENTRY = BPFAttachType.TRACE_FENTRY
    TRACE_FEXIT = BPFAttachType.TRACE_FEXIT
    CLOCK_MONOTONIC = 1

    def __init__(self, src_file=b"", hdr_file=b"", text=None, debug=0, cflags=[],
                 usdt_contexts=[], allow_rlimit=True, device=None,
                 attach_usdt_ignore_pid=False):
        self.debug = debug
        self.funcs = {}
        self.tables = {}
        self.perf_buffers = {}
        self._ring_buffers = {}
        self._perf_poller = self._ring_poller = None
        self._links = {}
        self._coll = None
        self._variants = {}         # variant → Collection sharing this program's maps
        self._closed = False
        cflags = [as_str(f) for f in cflags or ()]
        if hdr_file:
            cflags += ["-include", as_str(hdr_file)]
        if usdt_contexts:
            c_text, _ = source.read_source(text, src_file)
            # every context gives the same readers: once is enough
            text = "".join(dict.fromkeys(as_str(ctx.get_text()) for ctx in usdt_contexts)) + c_text
        self._build = source.build(text, src_file, cflags, debug)
        spec = load_spec(self._build.obj_path)
        self._coll = loader.load(spec, programs=[],
                                 reuse_maps=shared_tables.maps_to_reuse(self._build.tables, spec))
        shared_tables.publish(self, self._build.tables)
        ref = weakref.ref(self)
        atexit.register(lambda: ref() is not None and ref().cleanup())
        try:
            for ctx in usdt_contexts:
                ctx.attach_uprobes(self, attach_usdt_ignore_pid)
            self._auto_attach(spec)
        except BaseException:
            self.cleanup()
            raise

    # --- programs ---------------------------------------------------------------

    def _auto_attach(self, spec):
        todo = self._build.auto_attach if self._build.frontend else source.section_auto_attach(spec)
        for fn_name, kind, target in todo:
            kind = sections.normalize_kind(kind)
            if kind == "kprobe":
                self.attach_kprobe(event=target, fn_name=fn_name)
            elif kind == "kretprobe":
                self.attach_kretprobe(event=target, fn_name=fn_name)
            elif kind == "tracepoint":
                self.attach_tracepoint(tp=target.replace("/", ":", 1), fn_name=fn_name)
            elif kind == "raw_tracepoint":
                self.attach_raw_tracepoint(tp=target, fn_name=fn_name)
            elif kind in ("kfunc", "kretfunc"):
                self._attach_kfunc(fn_name, target, kind == "kretfunc")
            elif kind == "lsm":
                self._attach_lsm(fn_name, target)
            elif kind in ("uprobe", "uretprobe"):
                binary, _, func = target.rpartition(":")
                attach = self.attach_uretprobe if kind == "uretprobe" else self.attach_uprobe
                attach(name=binary, sym=func, fn_name=fn_name)
            elif kind == "tp_btf":
                self._attach_tp_btf(fn_name, target)
            elif kind in ("ksyscall", "kretsyscall"):
                attach = self.attach_kretprobe if kind == "kretsyscall" else self.attach_kprobe
                attach(event=self.get_syscall_fnname(target), fn_name=fn_name)
            elif kind == "kmod_ret":
                self._attach_kmod_ret(fn_name, target)
            elif not self._build.frontend:
                self._attach_by_section(fn_name)
            else:
                raise NotSupportedError(f"{fn_name}: automatic attachment of kind {kind!r} "
                                        f"is not supported")

    def _attach_by_section(self, fn_name):
        """Plain C whose section bcc has no method for (usdt/, kprobe.multi/,
        uprobe.multi/, ...): attach it as its section says."""
        from .. import autoattach
        prog = self.funcs.get(fn_name) or self._coll.load_program(fn_name)
        self.funcs[fn_name] = prog
        kw = {"collection": self._coll} if prog.spec.sdef.kind == "usdt" else {}
        self._add_link("section", fn_name, autoattach.attach_program(prog, **kw))

    def _program_spec(self, name):
        ps = self._coll.spec.programs.get(name)
        if ps is None:
            have = ", ".join(sorted(self._coll.spec.programs)) or "none"
            raise LoadError(f"Failed to load BPF program {name}: no such function in the "
                            f"program (have: {have})")
        return ps

    def _load_with_section(self, name, prefix, target=""):
        """Load function ``name`` as the program kind of section ``prefix``."""
        name = as_str(name)
        fn = self.funcs.get(name)
        if fn is not None:
            return fn
        ps = self._program_spec(name)
        sdef, _ = sections.lookup(prefix + target if prefix.endswith("/") else prefix)
        own = ps.sdef
        try:
            if own is not None and own.prog_type == sdef.prog_type and \
                    own.attach_type == sdef.attach_type and (ps.target or not target):
                fn = self._coll.load_program(name)          # its section says it all
            else:
                fn = self._coll.load_program(name, sdef=sdef, target=target or ps.target)
        except VerifierError as e:
            _refuse_missing_helper(name, sdef, e)
            self._explain(e)
            raise
        self.funcs[name] = fn
        return fn

    def _load_variant(self, name, variant):
        """Function ``name`` of the program compiled as ``variant`` (a kprobe
        program that runs on a stand-in tracepoint, see fallbacks.py), loaded
        with this program's maps; None for plain C (not rewritten by pybcc)."""
        if not self._build.frontend:
            return None
        coll = self._variants.get(variant)
        if coll is None:
            spec = load_spec(source.build_variant(self._build, variant))
            coll = loader.load(spec, programs=[], reuse_maps=dict(self._coll.map_fds))
            self._variants[variant] = coll
        prefix = "tracepoint/" if variant == "syscall_tp" else "raw_tp/"
        sdef, _ = sections.lookup(prefix)
        try:
            return coll.load_program(as_str(name), sdef=sdef, target="")
        except VerifierError as e:
            self._explain(e)
            raise

    def _explain(self, err):
        """Give a verifier error the user's own line of C."""
        where = getattr(err, "source_line", None)
        line = getattr(where, "line", None)
        if not line:
            return
        text = source.source_line(self._build, line)
        if text and text not in err.message:
            err.message += f"\n  {self._build.filename}:{line}: {text}"

    def load_func(self, func_name, prog_type, device=None, attach_type=-1):
        """Load function ``func_name`` as a program of ``prog_type`` (BPF.KPROBE,
        BPF.TRACEPOINT, BPF.XDP, ...); returns an object with .fd and .name.
        Loaded once: later calls return the same program."""
        name = as_str(func_name)
        if name in self.funcs:
            return self.funcs[name]
        if prog_type == BPFProgType.TRACING:
            if attach_type == -1:
                attach_type = (BPFAttachType.TRACE_FEXIT if name.startswith("kretfunc__")
                               else BPFAttachType.TRACE_FENTRY)
            prefix = _TRACING_SECTION.get(attach_type)
            if prefix is None:
                raise NotSupportedError(f"load_func({name}): TRACING attach type "
                                        f"{attach_type} is not supported by pybcc")
            if prefix != "tp_btf/" and not features.has_fentry():
                raise NotSupportedError(f"cannot load {name}: BPF trampolines (fentry/fexit) "
                                        f"are refused by this kernel", feature="fentry",
                                        alternative="a tracepoint or a kprobe")
            target = _kfunc_target(name, "kfunc__", "kretfunc__", "kmod_ret__")
            return self._load_with_section(name, prefix, target)
        if prog_type == BPFProgType.LSM:
            return self._load_with_section(name, "lsm/", _kfunc_target(name, "lsm__"))
        prefix = _SECTION_OF_TYPE.get(prog_type)
        if prefix is None:
            raise NotSupportedError(f"load_func({name}): program type {prog_type} is not "
                                    f"supported by pybcc")
        return self._load_with_section(name, prefix)

    def load_funcs(self, prog_type=BPFProgType.KPROBE):
        """Load every function of the program as ``prog_type``; returns them."""
        names = self._build.functions or sorted(self._coll.spec.programs)
        return [self.load_func(name, prog_type) for name in names]

    # C type names → ctypes classes, as bcc has them
    str2ctype = {
        "_Bool": ct.c_bool, "char": ct.c_char, "wchar_t": ct.c_wchar,
        "unsigned char": ct.c_ubyte, "short": ct.c_short, "unsigned short": ct.c_ushort,
        "int": ct.c_int, "unsigned int": ct.c_uint, "long": ct.c_long,
        "unsigned long": ct.c_ulong, "long long": ct.c_longlong,
        "unsigned long long": ct.c_ulonglong, "float": ct.c_float, "double": ct.c_double,
        "long double": ct.c_longdouble, "__int128": ct.c_int64 * 2,
        "unsigned __int128": ct.c_uint64 * 2,
    }

    @staticmethod
    def generate_auto_includes(program_words):
        """bcc adds kernel #includes for types a program names; pybcc's
        dialect header has every kernel type already (vmlinux.h)."""
        return ""

    @staticmethod
    def add_prefix(prefix, name):
        return name if name.startswith(prefix) else prefix + name

    def attach_fmod_ret(self, fn_name=b""):
        """Attach kmod_ret__FUNC (KMOD_RET) to FUNC as BPF_MODIFY_RETURN."""
        fn_name = as_str(fn_name)
        fn_name = fn_name if fn_name.startswith("kmod_ret__") else "kmod_ret__" + fn_name
        return self._attach_kmod_ret(fn_name, _kfunc_target(fn_name, "kmod_ret__"))

    def dump_func(self, func_name):
        """The function's BPF instructions as compiled (before relocation), as bytes."""
        from .. import asm
        ps = self._program_spec(as_str(func_name))
        insns = self._coll.spec.sections[ps.section].insns[ps.start:ps.end]
        return asm.encode(insns)

    @property
    def module(self):
        """bcc's handle of the compiled module, for bcc.libbcc's lib.* calls."""
        return self

    def disassemble_func(self, func_name):
        """The function's instructions as text (bcc.disassembler's format)."""
        from .disassembler import disassemble_prog
        return disassemble_prog(func_name, self.dump_func(func_name))

    def decode_table(self, table_name, sizeinfo=False):
        """The table's key and value layout as C declarations."""
        from .disassembler import decode_map
        table = self[table_name]
        return decode_map(table_name, table, table.ttype, sizeinfo=sizeinfo)

    # --- tables -----------------------------------------------------------------

    def get_table(self, name, keytype=None, leaftype=None, reducer=None):
        """The table (map) called ``name``; keytype/leaftype override the
        ctypes classes derived from BTF; reducer folds per-CPU values."""
        name = as_str(name)
        custom = keytype is not None or leaftype is not None or reducer is not None
        if not custom and name in self.tables:
            return self.tables[name]
        fd = self._coll.map_fds.get(name)
        if fd is None:
            raise KeyError(f"Cannot find table {name}" +
                           (f" (tables: {', '.join(sorted(self._user_tables()))})"
                            if self._user_tables() else ""))
        t = Table(self, fd, self._coll.spec.maps[name], name, keytype, leaftype, reducer)
        old = self.tables.get(name)
        if old is not None and old is not t:
            old.close()
        self.tables[name] = t
        return t

    def _user_tables(self):
        return [n for n in self._coll.map_fds if not n.startswith(".")]

    def __getitem__(self, key):
        return self.get_table(key)

    def __setitem__(self, key, leaf):
        self.tables[as_str(key)] = leaf

    def __delitem__(self, key):
        t = self.tables.pop(as_str(key), None)
        if t is not None:
            t.close()

    def __contains__(self, key):
        return as_str(key) in self._coll.map_fds

    def __iter__(self):
        return iter(self._user_tables())

    def __len__(self):
        return len(self._user_tables())

    def _event_type(self, table_name):
        """The ctypes class of the struct a program submits to ``table_name``."""
        from ..btf import types as bt
        from ..maps import btf_codec
        type_name = self._build.perf_submits.get(table_name)
        if not type_name:
            raise BPFError(f"table {table_name!r}: cannot tell which struct its events are "
                           f"(no {table_name}.perf_submit()/ringbuf_output() of a struct "
                           f"seen); decode with ctypes.cast(data, ctypes.POINTER(YourStruct))")
        btf = self._coll.spec.btf
        bare = type_name.split()[-1] if type_name.split()[0] in ("struct", "union") else type_name
        found = btf.find_all(bare, (bt.STRUCT, bt.UNION, bt.TYPEDEF)) if btf else []
        if not found:
            raise BPFError(f"table {table_name!r}: the program's BTF has no type {type_name}")
        return btf_codec(btf, found[0].id, chars="bytes").ctype

    # --- perf and ring buffers ---------------------------------------------------

    def _add_perf_buffer(self, name, reader):
        self._close_perf_buffer(name)
        self.perf_buffers[name] = reader
        self._perf_poller = _polled_with(self._perf_poller, reader)

    def _close_perf_buffer(self, name):
        _close_reader(self.perf_buffers, name, self._perf_poller)

    def _add_ring_buffer(self, name, reader):
        self._close_ring_buffer(name)
        self._ring_buffers[name] = reader
        self._ring_poller = _polled_with(self._ring_poller, reader)

    def _close_ring_buffer(self, name):
        _close_reader(self._ring_buffers, name, self._ring_poller)

    def perf_buffer_poll(self, timeout=-1):
        """Wait up to ``timeout`` ms (-1: forever) for perf buffer records and
        call their callbacks. Returns how many records were read."""
        if self._perf_poller is None:
            raise BPFError("perf_buffer_poll: no perf buffer is open "
                           "(call b[\"events\"].open_perf_buffer(callback) first)")
        return self._perf_poller.poll(timeout)

    kprobe_poll = perf_buffer_poll

    def perf_buffer_consume(self):
        """Read what the perf buffers hold, without waiting."""
        return self._perf_poller.consume() if self._perf_poller else 0

    def ring_buffer_poll(self, timeout=-1):
        """Wait up to ``timeout`` ms for ring buffer records and call back."""
        if self._ring_poller is None:
            raise BPFError("ring_buffer_poll: no ring buffer is open "
                           "(call b[\"events\"].open_ring_buffer(callback) first)")
        return self._ring_poller.poll(timeout)

    def ring_buffer_consume(self):
        return self._ring_poller.consume() if self._ring_poller else 0

    def ring_buffer_check(self):
        return self.ring_buffer_consume()

    # --- lifetime ---------------------------------------------------------------

    def cleanup(self):
        """Detach everything, close buffers, tables and programs. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._close_links()
        for name in list(self.perf_buffers):
            self._close_perf_buffer(name)
        for name in list(self._ring_buffers):
            self._close_ring_buffer(name)
        for poller in (self._perf_poller, self._ring_poller):
            if poller is not None:
                poller.close()
        self._perf_poller = self._ring_poller = None
        for t in self.tables.values():
            try:
                t.close()
            except (OSError, BPFError):
                pass
        self.tables = {}
        self.trace_close()
        for coll in self._variants.values():
            coll.close()
        self._variants = {}
        if self._coll is not None:
            self._coll.close()
        self.funcs = {}

    close = cleanup

    def free_bcc_memory(self):
        return 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cleanup()

    def __del__(self):
        try:
            self.cleanup()
        except Exception:
            pass


for _name, _value in vars(BPFProgType).items():
    if not _name.startswith("_"):
        setattr(BPF, _name, _value)


# Helpers a kernel gives only when built with an option (the verifier then
# says "unknown func NAME#ID", since 6.x "program of this type cannot use
# helper NAME#ID").
_HELPER_CONFIG = {"bpf_override_return": "CONFIG_BPF_KPROBE_OVERRIDE"}


def _refuse_missing_helper(name, sdef, err):
    """A program rejected for calling a helper this kernel does not give its
    program type is the kernel lacking a feature: say so in one line
    (bcc's inject on Debian's kernels, which lack CONFIG_BPF_KPROBE_OVERRIDE)."""
    m = re.search(r"(?:unknown func|cannot use helper) (\w+)#(\d+)", getattr(err, "log", "") or "")
    if not m:
        return
    helper, config = m.group(1), _HELPER_CONFIG.get(m.group(1))
    kind = (sdef.prefix if sdef is not None else "these").rstrip("/")
    raise NotSupportedError(
        f"cannot load {name}: this kernel does not give {kind} programs the helper {helper}"
        + (f" (it needs {config})" if config else ""), feature=helper) from err
