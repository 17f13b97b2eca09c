"""What the running kernel can do, found by trying it once per process.

Each probe does the real thing (loads a two-instruction program, creates a
map, opens a PMU, attaches a no-op program for an instant) instead of looking
for symbols or config files: a symbol can be present while the operation is
still refused (e.g. fentry here: the trampoline exists, the load gets EPERM).
"""
import ctypes
import functools
import os
import struct

from .. import asm, cache
from ..errors import BPFError
from . import bpf, tracefs
from .uapi import (AttachType, MapType, ProgType, BPF_F_MMAPABLE, BPF_F_NO_PREALLOC,
                   BPF_F_SLEEPABLE, PERF_TYPE_TRACEPOINT)

_PMU_DIR = "/sys/bus/event_source/devices"

# Program types that need an expected_attach_type (or flags) to load at all.
_LOAD_EXTRA = {
    ProgType.CGROUP_SOCK_ADDR: dict(expected_attach_type=AttachType.CGROUP_INET4_CONNECT),
    ProgType.CGROUP_SOCKOPT: dict(expected_attach_type=AttachType.CGROUP_GETSOCKOPT),
    ProgType.SK_LOOKUP: dict(expected_attach_type=AttachType.SK_LOOKUP),
    ProgType.NETFILTER: dict(expected_attach_type=AttachType.NETFILTER),
    ProgType.LIRC_MODE2: dict(expected_attach_type=AttachType.LIRC_MODE2),
    ProgType.SYSCALL: dict(prog_flags=BPF_F_SLEEPABLE),
}

# Functions present on any x86_64/arm64 kernel of the last decade, used as
# targets for fentry/kprobe_multi probes.
_COMMON_FUNCS = ("do_sys_openat2", "do_sys_open", "vfs_read", "schedule")


# --- helpers -----------------------------------------------------------------

def load_program(prog_type, insns, log=False, **fields):
    """Load hand-built instructions; returns (fd or -errno, verifier log text)."""
    code = asm.encode(asm.flatten(insns))
    buf = ctypes.create_string_buffer(code, len(code))
    lic = ctypes.create_string_buffer(b"GPL")
    logbuf = ctypes.create_string_buffer(1 << 16) if log else None
    fd, _ = bpf.prog_load(prog_type=int(prog_type), insns=bpf.addr(buf),
                               insn_cnt=len(code) // asm.INSN_SIZE, license=bpf.addr(lic),
                               log_level=1 if log else 0, log_buf=bpf.addr(logbuf),
                               log_size=len(logbuf) if log else 0, **fields)
    return fd, (logbuf.value.decode(errors="replace") if log else "")


def _ret0():
    return [asm.mov64_imm(0, 0), asm.exit_insn()]


def _load(prog_type, insns=None, **fields):
    """fd of a loaded no-op (or given) program, or -errno."""
    return load_program(prog_type, insns or _ret0(), **fields)[0]


def _try_load(prog_type, insns=None, **fields):
    fd = _load(prog_type, insns, **fields)
    if fd >= 0:
        os.close(fd)
    return fd


def btf_id(name, kind):
    """Id of a vmlinux BTF type (kind as a pybcc.btf kind number), or None.
    Remembered per boot (see _boot_btf_ids): parsing the kernel's BTF costs
    ~0.5 s CPU and ~100 MB, too much for a tool that only asks whether
    fentry works after a kprobe was refused."""
    ids, path = _boot_btf_ids()
    key = f"{int(kind)}:{name}"
    if key not in ids:
        try:
            from ..btf import BTF
            ids[key] = BTF.kernel().find(name, kind).id
        except (ImportError, KeyError, OSError):
            ids[key] = None
        if path:
            try:
                cache.write_memo(path, ids)
            except OSError:
                pass    # an unusable cache only costs time
    return ids[key]


_btf_ids = None


def _boot_btf_ids():
    """({"KIND:NAME": id or None}, its file) for this boot's kernel."""
    global _btf_ids
    if _btf_ids is None:
        tag = cache.kernel_tag()
        path = None
        if tag:
            try:
                path = os.path.join(cache.private_dir("kernel-memo"), f"{tag}-btf-ids.memo")
            except OSError:
                path = None
        stored = cache.read_memo(path) if path else None
        _btf_ids = (stored if isinstance(stored, dict) else {}, path)
    return _btf_ids


def _btf_func_id(names):
    from ..btf.types import FUNC
    for name in names:
        tid = btf_id(name, FUNC)
        if tid:
            return tid
    return None


# --- program and map types ---------------------------------------------------

@functools.lru_cache(maxsize=None)
def prog_type_supported(prog_type):
    """Whether a program of this type can be loaded here.

    TRACING is answered with tp_btf (the TRACING flavour that needs the least),
    LSM by loading on a bpf_lsm_* hook; EXT and STRUCT_OPS need a target object
    and are answered by the kernel's reply to a load without one."""
    prog_type = ProgType(prog_type)
    if prog_type == ProgType.TRACING:
        return has_tp_btf()
    if prog_type == ProgType.LSM:
        return has_lsm()
    return _try_load(prog_type, **_LOAD_EXTRA.get(prog_type, {})) >= 0


def _int_btf():
    """A BTF blob holding one type, 4-byte "int" (local storage maps need BTF)."""
    strings = b"\0int\0"
    types = struct.pack("<IIII", 1, 1 << 24, 4, (1 << 24) | 32)  # INT, signed, 32 bits
    hdr = struct.pack("<HBBIIIII", 0xEB9F, 1, 0, 24, 0, len(types), len(types), len(strings))
    return bpf.btf_load(hdr + types + strings)


def _map_attrs(map_type):
    plain = dict(key_size=4, value_size=4, max_entries=1)
    page = os.sysconf("SC_PAGE_SIZE")
    special = {
        MapType.STACK_TRACE: dict(key_size=4, value_size=8, max_entries=1),
        MapType.LPM_TRIE: dict(key_size=8, value_size=4, max_entries=1,
                               map_flags=BPF_F_NO_PREALLOC),
        MapType.CGROUP_STORAGE: dict(key_size=16, value_size=8, max_entries=0),
        MapType.PERCPU_CGROUP_STORAGE: dict(key_size=16, value_size=8, max_entries=0),
        MapType.QUEUE: dict(key_size=0, value_size=4, max_entries=1),
        MapType.STACK: dict(key_size=0, value_size=4, max_entries=1),
        MapType.RINGBUF: dict(key_size=0, value_size=0, max_entries=page),
        MapType.USER_RINGBUF: dict(key_size=0, value_size=0, max_entries=page),
        MapType.BLOOM_FILTER: dict(key_size=0, value_size=4, max_entries=1),
        MapType.ARENA: dict(key_size=0, value_size=0, max_entries=1, map_flags=BPF_F_MMAPABLE),
    }
    return dict(special.get(map_type, plain))


_STORAGE = (MapType.SK_STORAGE, MapType.INODE_STORAGE, MapType.TASK_STORAGE,
            MapType.CGRP_STORAGE)


@functools.lru_cache(maxsize=None)
def map_type_supported(map_type):
    """Whether a map of this type can be created here (STRUCT_OPS: never
    probed, it needs a struct_ops value type, answered False)."""
    map_type = MapType(map_type)
    if map_type in (MapType.UNSPEC, MapType.STRUCT_OPS):
        return False
    attrs = _map_attrs(map_type)
    close = []
    try:
        if map_type in (MapType.ARRAY_OF_MAPS, MapType.HASH_OF_MAPS):
            inner = bpf.map_create(map_type=MapType.ARRAY, key_size=4, value_size=4,
                                        max_entries=1)
            close.append(inner)
            attrs["inner_map_fd"] = inner
        if map_type in _STORAGE:
            btf_fd = _int_btf()
            close.append(btf_fd)
            attrs.update(max_entries=0, map_flags=BPF_F_NO_PREALLOC, btf_fd=btf_fd,
                         btf_key_type_id=1, btf_value_type_id=1)
        close.append(bpf.map_create(map_type=int(map_type), **attrs))
        return True
    except BPFError:
        return False
    finally:
        for fd in close:
            os.close(fd)


def has_ringbuf():
    return map_type_supported(MapType.RINGBUF)


@functools.lru_cache(maxsize=None)
def helper_supported(prog_type, helper_id):
    """Whether programs of prog_type may call helper_id.

    The call is made with zeroed arguments, so the verifier may still reject
    the program for its arguments; only "unknown func"/"cannot use helper"
    mean the helper itself is missing."""
    prog = [asm.mov64_imm(r, 0) for r in range(1, 6)] + \
        [asm.call_helper(int(helper_id)), asm.mov64_imm(0, 0), asm.exit_insn()]
    extra = dict(_LOAD_EXTRA.get(ProgType(prog_type), {}))
    fd, log = load_program(prog_type, prog, log=True, **extra)
    if fd >= 0:
        os.close(fd)
        return True
    return not any(s in log for s in ("invalid func ", "unknown func ", "cannot call",
                                      "program of this type cannot use helper"))


def has_bpf_cookie():
    """bpf_get_attach_cookie exists (Linux 5.15+), as libbpf probes it."""
    return helper_supported(ProgType.TRACEPOINT, 174)     # BPF_FUNC_get_attach_cookie


@functools.lru_cache(maxsize=None)
def has_atomic_fetch():
    """BPF's fetching atomics (xchg, cmpxchg, fetch-and-add whose result is
    used; Linux 5.12+): older verifiers refuse the whole program ("BPF_STX
    uses reserved fields"), so a tool needs a plain twin there."""
    xchg = asm.Insn(asm.STX | asm.ATOMIC | asm.DW, 10, 1, -8, 0xE1)    # BPF_XCHG
    prog = [asm.mov64_imm(1, 0), asm.stx_mem(asm.DW, 10, 1, -8), xchg,
            asm.mov64_imm(0, 0), asm.exit_insn()]
    return _try_load(ProgType.SOCKET_FILTER, insns=prog) >= 0


_SYSCALL_PREFIX = {"x86_64": "__x64_", "aarch64": "__arm64_", "s390x": "__s390x_",
                   "riscv64": "__riscv_", "ppc64le": "", "loongarch64": ""}


@functools.lru_cache(maxsize=None)
def has_syscall_wrapper():
    """Syscalls enter through pt_regs wrappers (__x64_sys_bpf, ...:
    CONFIG_ARCH_HAS_SYSCALL_WRAPPER), so BPF_KSYSCALL programs read their
    arguments one pt_regs further; libbpf's LINUX_HAS_SYSCALL_WRAPPER."""
    import platform
    from ..symbols.kallsyms import ksymname
    prefix = _SYSCALL_PREFIX.get(platform.machine(), "")
    return bool(prefix) and ksymname(prefix + "sys_bpf") > 0


@functools.lru_cache(maxsize=None)
def btf_kind_supported(kind):
    """Whether the kernel accepts BTF types of ``kind`` (FLOAT: 5.13, DECL_TAG:
    5.16, TYPE_TAG: 5.17, ENUM64: 6.0): load a tiny BTF blob that uses it."""
    from ..btf import types as bt
    types = [bt.Type(1, bt.INT, "int", size=4, encoding=bt.INT_SIGNED, bits=32)]
    if kind == bt.FLOAT:
        types.append(bt.Type(2, bt.FLOAT, "float", size=4))
    elif kind == bt.DECL_TAG:
        types += [bt.Type(2, bt.STRUCT, "s", size=4, members=[bt.Member("a", 1, 0)]),
                  bt.Type(3, bt.DECL_TAG, "tag", ref=2, linkage=-1)]
    elif kind == bt.TYPE_TAG:
        types += [bt.Type(2, bt.TYPE_TAG, "tag", ref=1), bt.Type(3, bt.PTR, ref=2)]
    elif kind == bt.ENUM64:
        types.append(bt.Type(2, bt.ENUM64, "e", size=8, members=[bt.EnumValue("E", 1 << 40)]))
    else:
        raise ValueError(f"no probe for BTF kind {kind}")
    try:
        fd = bpf.btf_load(bt.BTF(types).to_bytes())
    except BPFError:
        return False
    os.close(fd)
    return True


# --- link and attach mechanisms -----------------------------------------------

@functools.lru_cache(maxsize=None)
def has_bpf_link():
    """BPF_LINK_CREATE exists (an invalid fd then gives EBADF, not EINVAL)."""
    try:
        bpf.link_create(0xFFFFFFFF, 0xFFFFFFFF, AttachType.PERF_EVENT)
    except BPFError as e:
        return e.errno == 9  # EBADF
    return True


@functools.lru_cache(maxsize=None)
def has_perf_link():
    """BPF_LINK_CREATE accepts perf event fds (tracepoints, kprobes, uprobes)."""
    pfd = prog = -1
    try:
        prog = _load(ProgType.TRACEPOINT)
        if prog < 0:
            return False
        tp_id = tracefs.tracepoint_id("syscalls", "sys_enter_getppid")
        pfd = bpf.perf_event_open(type=PERF_TYPE_TRACEPOINT, config=tp_id,
                                       sample_period=1, cpu=0)
        os.close(bpf.link_create(prog, pfd, AttachType.PERF_EVENT))
        return True
    except BPFError:
        return False
    finally:
        for fd in (pfd, prog):
            if fd >= 0:
                os.close(fd)


@functools.lru_cache(maxsize=None)
def pmu_type(name):
    """perf_event_attr.type of a dynamic PMU ("kprobe", "uprobe"), or None."""
    try:
        with open(os.path.join(_PMU_DIR, name, "type")) as f:
            return int(f.read())
    except (OSError, ValueError):
        return None


@functools.lru_cache(maxsize=None)
def pmu_format(name, field):
    """(config word, first bit) of a PMU format field, e.g. ("config", 0) for
    uprobe/retprobe or ("config", 32) for uprobe/ref_ctr_offset; None if absent."""
    try:
        with open(os.path.join(_PMU_DIR, name, "format", field)) as f:
            word, _, bits = f.read().strip().partition(":")
    except OSError:
        return None
    return word, int(bits.split("-")[0])


def has_kprobe_pmu():
    return pmu_type("kprobe") is not None


def has_uprobe_pmu():
    return pmu_type("uprobe") is not None


def has_kprobes():
    """kprobes by any mechanism: the PMU or tracefs kprobe_events."""
    return has_kprobe_pmu() or _tracefs_has("kprobe")


def has_uprobes():
    return has_uprobe_pmu() or _tracefs_has("uprobe")


def _tracefs_has(kind):
    try:
        return tracefs.has_probe_events(kind)
    except BPFError:
        return False


def _attach_for_a_moment(prog_fd, attach_type):
    """Attach a loaded BTF-targeted program and detach it at once (LINK_CREATE,
    or RAW_TRACEPOINT_OPEN without a name on kernels before links for these)."""
    try:
        fd = bpf.link_create(prog_fd, 0, attach_type)
    except BPFError as e:
        if e.errno != 22:  # EINVAL: this kernel wants the older call
            raise
        fd = bpf.raw_tracepoint_open(None, prog_fd)
    os.close(fd)


@functools.lru_cache(maxsize=None)
def has_kprobe_multi():
    """kprobe_multi links (fprobe): attach a no-op program to a common function."""
    fd = _load(ProgType.KPROBE, expected_attach_type=AttachType.TRACE_KPROBE_MULTI)
    if fd < 0:
        return False
    try:
        for name in _COMMON_FUNCS:
            sym = ctypes.create_string_buffer(name.encode())
            syms = (ctypes.c_uint64 * 1)(ctypes.addressof(sym))
            try:
                os.close(bpf.link_create(fd, 0, AttachType.TRACE_KPROBE_MULTI,
                                              kprobe_multi_cnt=1,
                                              kprobe_multi_syms=ctypes.addressof(syms)))
                return True
            except BPFError as e:
                if e.errno != 2 and e.errno != 3:  # ENOENT/ESRCH: try another name
                    return False
        return False
    finally:
        os.close(fd)


@functools.lru_cache(maxsize=None)
def has_uprobe_multi():
    """uprobe_multi links (Linux 6.6). A directory as the path makes a kernel
    that knows them answer EBADF before any probe is placed."""
    fd = _load(ProgType.KPROBE, expected_attach_type=AttachType.TRACE_UPROBE_MULTI)
    if fd < 0:
        return False
    path = ctypes.create_string_buffer(b"/")
    offs = (ctypes.c_uint64 * 1)(0)
    try:
        os.close(bpf.link_create(fd, 0, AttachType.TRACE_UPROBE_MULTI,
                                      uprobe_multi_path=ctypes.addressof(path),
                                      uprobe_multi_offsets=ctypes.addressof(offs),
                                      uprobe_multi_cnt=1))
        return True   # not expected, but it did attach
    except BPFError as e:
        return e.errno == 9  # EBADF
    finally:
        os.close(fd)


def _tracing_works(prog_type, attach_type, target_id):
    """Load a no-op program on target_id and attach it for an instant."""
    if not target_id:
        return False
    fd = _load(prog_type, expected_attach_type=attach_type, attach_btf_id=target_id)
    if fd < 0:
        return False
    try:
        _attach_for_a_moment(fd, attach_type)
        return True
    except BPFError:
        return False
    finally:
        os.close(fd)


@functools.lru_cache(maxsize=None)
def has_fentry():
    """fentry/fexit programs load and attach (needs BTF and a BPF trampoline)."""
    return _tracing_works(ProgType.TRACING, AttachType.TRACE_FENTRY,
                          _btf_func_id(_COMMON_FUNCS))


@functools.lru_cache(maxsize=None)
def has_tp_btf():
    """BTF-typed raw tracepoints (tp_btf) load and attach."""
    from ..btf.types import TYPEDEF
    return _tracing_works(ProgType.TRACING, AttachType.TRACE_RAW_TP,
                          btf_id("btf_trace_sys_enter", TYPEDEF))


@functools.lru_cache(maxsize=None)
def has_lsm():
    """BPF LSM programs load, attach and run (CONFIG_BPF_LSM and "bpf" in lsm=).

    Without "bpf" among the active LSMs a program still loads and attaches
    but never runs, so the active list decides when securityfs shows it."""
    active = _active_lsms()
    if active is not None and "bpf" not in active:
        return False
    return _tracing_works(ProgType.LSM, AttachType.LSM_MAC,
                          _btf_func_id(("bpf_lsm_file_open",)))


def _active_lsms():
    """The active LSM names from securityfs (mounted if needed), or None."""
    path = "/sys/kernel/security/lsm"
    if not os.path.exists(path) and os.geteuid() == 0:
        import subprocess
        subprocess.run(["mount", "-t", "securityfs", "securityfs", "/sys/kernel/security"],
                       capture_output=True)
    try:
        with open(path) as f:
            return f.read().strip().split(",")
    except OSError:
        return None


@functools.lru_cache(maxsize=None)
def has_tcx():
    """tcx links (BPF_LINK_CREATE with TCX_INGRESS) exist; probed on loopback."""
    fd = _load(ProgType.SCHED_CLS, [asm.mov64_imm(0, -1), asm.exit_insn()])
    if fd < 0:
        return False
    try:
        os.close(bpf.link_create(fd, 1, AttachType.TCX_INGRESS))  # ifindex 1 is lo
        return True
    except BPFError:
        return False
    finally:
        os.close(fd)


def hardware_perf_events():
    """Whether hardware counters (cycles) can be opened: the PMU exists and
    is not hidden by virtualisation."""
    return _perf_opens(0, 0)


@functools.lru_cache(maxsize=None)
def _perf_opens(ptype, config):
    try:
        os.close(bpf.perf_event_open(type=ptype, config=config, sample_period=1 << 30,
                                          cpu=0))
        return True
    except BPFError:
        return False


def summary():
    """All probes as a dict name → bool, for `pybcc features` and bug reports."""
    out = {f"prog_type:{t.name}": prog_type_supported(t) for t in ProgType if t}
    out.update({f"map_type:{t.name}": map_type_supported(t) for t in MapType if t})
    for fn in (has_bpf_link, has_perf_link, has_kprobe_pmu, has_uprobe_pmu, has_kprobes,
               has_uprobes, has_kprobe_multi, has_uprobe_multi, has_fentry, has_tp_btf, has_lsm,
               has_tcx, has_ringbuf, hardware_perf_events):
        out[fn.__name__] = fn()
    return out
