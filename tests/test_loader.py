"""The loader against the real kernel: objects compiled from tests/bpf/*.bpf.c."""
import ctypes
import errno
import os
import platform
import subprocess
import sys
import time

import pytest

from pybcc import compiler, loader
from pybcc.attach.tracepoint import attach_tracepoint
from pybcc.errors import BPFError, LoadError, VerifierError
from pybcc.kernel import bpf
from pybcc.elf_reader import load_spec

HERE = os.path.dirname(__file__)
pytestmark = pytest.mark.usefixtures("root")


def build(name):
    path = os.path.join(HERE, "bpf", name)
    return compiler.compile(open(path).read(), filename=path)


def u32(v):
    return ctypes.c_uint32(v)


def lookup(fd, key, size=8):
    val = ctypes.create_string_buffer(size)
    bpf.map_elem(1, fd, key, val)
    return int.from_bytes(val.raw, "little", signed=True)


def _raw_global(coll, section, offset, size):
    spec = coll.spec.maps[section]
    val = ctypes.create_string_buffer(spec.value_size)
    bpf.map_elem(1, coll.map_fds[section], u32(0), val)
    return int.from_bytes(val.raw[offset:offset + size], "little", signed=True)


def var(coll, name):
    v = coll.spec.variables[name]
    return _raw_global(coll, v.map_name, v.offset, v.size)


def test_spec_lists_programs_maps_and_globals():
    spec = load_spec(build("loader_basic.bpf.c"))
    assert list(spec.programs) == ["count_getppid"]
    assert spec.programs["count_getppid"].target == "syscalls/sys_enter_getppid"
    assert {"counts", ".bss", ".data", ".rodata"} <= set(spec.maps)
    assert spec.maps["counts"].key_size == 4 and spec.maps["counts"].value_size == 8
    assert spec.maps["counts"].max_entries == 128
    assert {"target_tgid", "weight", "last_ppid", "calls_data"} <= set(spec.variables)


def test_load_attach_count_with_constants_core_and_calls():
    obj = build("loader_basic.bpf.c")
    with loader.load(obj, constants={"target_tgid": os.getpid(), "weight": 3}) as coll:
        prog = coll.programs["count_getppid"]
        assert coll.btf_fd is not None and coll.btf_error is None
        link = attach_tracepoint(prog.fd, "syscalls", "sys_enter_getppid")
        try:
            for _ in range(5):
                os.getppid()
        finally:
            link.close()
        # weight=3 through two calls deep: 5 calls x 3
        assert lookup(coll.map_fds["counts"], u32(os.getpid())) == 15
        # the CO-RE chain task->real_parent->tgid read the real parent
        assert var(coll, "last_ppid") == os.getppid()
        assert var(coll, "calls_data") == 105
        assert var(coll, "weight") == 3


def test_constant_filter_excludes_other_processes():
    obj = build("loader_basic.bpf.c")
    with loader.load(obj, constants={"target_tgid": 1}) as coll:  # init never calls getppid
        link = attach_tracepoint(coll.programs["count_getppid"].fd, "syscalls", "sys_enter_getppid")
        os.getppid()
        link.close()
        with pytest.raises(BPFError) as ei:
            lookup(coll.map_fds["counts"], u32(os.getpid()))
        assert ei.value.errno == errno.ENOENT


def test_attach_by_section_name_and_detach_on_close():
    with loader.load(build("loader_basic.bpf.c"), constants={"target_tgid": os.getpid()}) as coll:
        links = coll.attach_all()
        assert len(links) == 1 and "sys_enter_getppid" in links[0].description
        os.getppid()
        assert lookup(coll.map_fds["counts"], u32(os.getpid())) == 1
        links[0].close()
        os.getppid()
        assert lookup(coll.map_fds["counts"], u32(os.getpid())) == 1


def test_unknown_constant_is_named():
    with pytest.raises(LoadError, match="no global variable 'nope'"):
        loader.load(build("loader_basic.bpf.c"), constants={"nope": 1})


def test_verifier_error_names_instruction_and_c_line():
    obj = build("verifier_reject.bpf.c")
    with pytest.raises(VerifierError) as ei:
        loader.load(obj)
    err = ei.value
    head = str(err).splitlines()
    assert "deref_without_check" in head[0]
    assert "instruction" in head[0] and "map_value_or_null" in head[0]
    assert "verifier_reject.bpf.c:16" in head[1] and "return *v;" in head[1]
    assert err.source_line.line == 16
    assert "processed" in err.log or "R0" in err.log


def test_keep_going_loads_the_others():
    with loader.load(build("verifier_reject.bpf.c"), keep_going=True) as coll:
        assert "fine" in coll.programs
        assert isinstance(coll.errors["deref_without_check"], VerifierError)


def test_map_in_map_prog_array_and_kconfig():
    obj = build("loader_links.bpf.c")
    with loader.load(obj) as coll:
        assert {"use_inner", "tail_target"} <= set(coll.programs)
        link = attach_tracepoint(coll.programs["use_inner"].fd, "syscalls", "sys_enter_getppid")
        os.getppid()
        link.close()
        # outer[1] is inner_b: the program counted there
        assert lookup(coll.map_fds["inner_b"], u32(0)) >= 1
        assert lookup(coll.map_fds["inner_a"], u32(0)) == 0
        # the prog array slot 1 holds tail_target
        val = ctypes.c_uint32()
        bpf.map_elem(1, coll.map_fds["jumps"], u32(1), val)
        assert val.value > 0  # a program id
        major, minor = (int(x) for x in platform.release().split(".")[:2])
        assert var(coll, "seen_version") >> 8 == (major << 8) | minor
        assert var(coll, "seen_bpf_syscall") == 1
        assert var(coll, "seen_missing") == 0


@pytest.mark.vm   # also on 5.10 in the VM
def test_virtual_kconfig_externs():
    """libbpf's LINUX_HAS_BPF_COOKIE, LINUX_HAS_SYSCALL_WRAPPER and
    LINUX_KERNEL_VERSION, read by a program; a weak extern no kernel sets is 0."""
    with loader.load(build("loader_virtual_kconfig.bpf.c")) as coll:
        link = attach_tracepoint(coll.programs["read_virtual_kconfig"].fd, "syscalls", "sys_enter_getppid")
        os.getppid()
        link.close()
        major, minor = (int(x) for x in platform.release().split(".")[:2])
        assert var(coll, "seen_version") >> 8 == (major << 8) | minor
        # bpf_get_attach_cookie arrived in 5.15; x86-64 has had syscall wrappers since 4.17.
        assert var(coll, "seen_cookie") == int((major, minor) >= (5, 15))
        if platform.machine() == "x86_64":
            assert var(coll, "seen_wrapper") == 1
        assert var(coll, "seen_missing") == 0


def test_only_virtual_kconfig_externs_read_no_kernel_configuration():
    """An object whose __kconfig externs are all libbpf's virtual LINUX_*
    ones (funccount's LINUX_HAS_BPF_COOKIE) does not read /proc/config.gz."""
    from pybcc.kernel.kconfig import kconfig_values
    from pybcc.tools.lib.prebuilt import tool_object
    spec = load_spec(tool_object("funccount"))
    assert {e.name for e in spec.externs.values() if e.kind == "kconfig"} == {"LINUX_HAS_BPF_COOKIE"}
    kconfig_values.cache_clear()
    with loader.load(spec, programs=[]) as coll:
        assert "kconfig" in coll.maps or ".kconfig" in coll.maps
    assert kconfig_values.cache_info().misses == 0
    # and an object with a CONFIG_ extern does read it
    with loader.load(build("loader_links.bpf.c")):
        pass
    assert kconfig_values.cache_info().misses == 1


NEWER_BTF_KINDS = ("FLOAT", "DECL_TAG", "TYPE_TAG", "ENUM64")


def _load_btf_kinds(coll):
    link = attach_tracepoint(coll.programs["count_kinds"].fd, "syscalls", "sys_enter_getppid")
    os.getppid()
    link.close()
    assert var(coll, "hits") >= 1
    assert var(coll, "big_seen") == 0x100000001
    # map values still decode by the object's own types
    data = coll.maps[".data"][0]
    assert int(data.pybcc_big_value) == 0x100000001 and int(data.pybcc_signed_value) == -1
    assert data.pybcc_ratio == 1.5


@pytest.mark.vm   # also on 5.10 in the VM
def test_btf_kinds_load_on_this_kernel():
    """An object using FLOAT, DECL_TAG, TYPE_TAG and ENUM64 loads with its BTF;
    on a kernel lacking a kind (5.10 in the VM) the loader rewrites it."""
    from pybcc.btf import types as bt
    from pybcc.kernel import features
    spec = load_spec(build("loader_btf_kinds.bpf.c"))
    kinds = {bt.KIND_NAMES[t.kind] for t in spec.btf.own_types}
    assert set(NEWER_BTF_KINDS) <= kinds, kinds
    missing = [k for k in NEWER_BTF_KINDS if not features.btf_kind_supported(getattr(bt, k))]
    major, minor = (int(x) for x in platform.release().split(".")[:2])
    if (major, minor) >= (6, 0):
        assert missing == []
    elif (major, minor) < (5, 13):
        assert missing == list(NEWER_BTF_KINDS)
    with loader.load(spec) as coll:
        assert coll.btf_fd is not None and coll.btf_error is None, coll.btf_error
        _load_btf_kinds(coll)


def test_btf_kinds_rewritten_as_for_an_older_kernel(monkeypatch):
    """The rewrite itself, checked against this kernel: with every newer kind
    treated as missing, the rewritten BTF must still load, with the programs'
    func_info and line_info, and the original types still decode the maps."""
    from pybcc.btf import types as bt
    from pybcc.loader import sanitize
    monkeypatch.setattr(sanitize.features, "btf_kind_supported", lambda kind: False)
    spec = load_spec(build("loader_btf_kinds.bpf.c"))
    with loader.load(spec) as coll:
        assert coll.btf_fd is not None and coll.btf_error is None, coll.btf_error
        assert coll.programs["count_kinds"].line_info
        _load_btf_kinds(coll)
    rewritten = sanitize.sanitized(load_spec(build("loader_btf_kinds.bpf.c")).btf)
    assert not {bt.FLOAT, bt.DECL_TAG, bt.TYPE_TAG, bt.ENUM64} & {t.kind for t in rewritten.own_types}
    assert not any(t.kind == bt.ENUM and t.kind_flag for t in rewritten.own_types)


def _embedded_bpf_objects(path):
    """The BPF ELF objects a libbpf skeleton binary carries (its .rodata holds them)."""
    import struct
    with open(path, "rb") as f:
        data = f.read()
    out, i = [], data.find(b"\x7fELF", 1)
    while i > 0:
        if data[i + 4] == 2 and struct.unpack_from("<H", data, i + 18)[0] == 247:   # ELF64, EM_BPF
            shoff, = struct.unpack_from("<Q", data, i + 0x28)
            shentsize, shnum = struct.unpack_from("<HH", data, i + 0x3a)
            out.append(data[i:i + shoff + shentsize * shnum])
        i = data.find(b"\x7fELF", i + 1)
    return out


@pytest.mark.vm   # also on 5.10 in the VM
def test_libbpf_tools_javagc_loads():
    """libbpf-tools' javagc uses LINUX_HAS_BPF_COOKIE (through usdt.bpf.h)."""
    if not os.path.exists("/usr/sbin/javagc"):
        pytest.skip("needs libbpf-tools (/usr/sbin/javagc)")
    objs = _embedded_bpf_objects("/usr/sbin/javagc")
    assert objs, "no BPF object found inside /usr/sbin/javagc"
    spec = load_spec(objs[0], name="javagc.bpf.o")
    assert "LINUX_HAS_BPF_COOKIE" in spec.externs
    with loader.load(spec) as coll:
        assert not coll.errors
        assert {"handle_gc_start", "handle_gc_end"} <= set(coll.programs)


def test_cli_load_reports_each_program():
    obj = build("verifier_reject.bpf.c")
    out = subprocess.run([sys.executable, "-m", "pybcc", "load", obj], capture_output=True, text=True)
    assert out.returncode == 1
    lines = out.stdout.splitlines()
    assert any(ln.split()[:3] == ["fine", "raw_tracepoint", "ok"] for ln in lines), out.stdout
    assert any(ln.startswith("deref_without_check") and "error" in ln for ln in lines), out.stdout
    assert any("verifier_reject.bpf.c:16" in ln for ln in lines), out.stdout


def test_nothing_left_after_close():
    with loader.load(build("loader_basic.bpf.c")) as coll:
        ids = {_prog_id(p.fd) for p in coll.programs.values()}
        assert ids <= _prog_ids()
    deadline = time.time() + 2   # programs are freed after an RCU grace period
    while ids & _prog_ids() and time.time() < deadline:
        time.sleep(0.05)
    assert not ids & _prog_ids()


def _prog_id(fd):
    info = ctypes.create_string_buffer(8)   # struct bpf_prog_info: type, id
    bpf.obj_info(fd, info)
    return int.from_bytes(info.raw[4:8], "little")


def _prog_ids():
    ids, cur = set(), 0
    while True:
        cur = bpf.next_id(11, cur)  # PROG_GET_NEXT_ID
        if cur is None:
            return ids
        ids.add(cur)


def test_untyped_ksym_from_kallsyms_and_weak_missing_is_zero():
    from pybcc.symbols import ksymname
    with loader.load(build("loader_ksym.bpf.c")) as coll:
        coll.attach_all()
        os.getppid()
        assert var(coll, "seen_sched") & (2**64 - 1) == ksymname("schedule")
        # bpf_prog_active is a data symbol: absent from kallsyms without KALLSYMS_ALL
        expected = ksymname("bpf_prog_active")
        assert var(coll, "seen_active") == (expected if expected and expected > 0 else 0)


def test_unresolvable_core_relocation_is_explained():
    with pytest.raises(VerifierError) as ei:
        loader.load(build("loader_poison.bpf.c"))
    assert "CO-RE relocation found no matching field" in str(ei.value)
    assert "loader_poison.bpf.c:" in str(ei.value)


def test_map_fd_closes_once_when_a_wrapper_is_dropped_half_made():
    # A Ctrl-C while Collection.maps builds a wrapper drops the half-made Map,
    # whose last-chance close closes the map fd; the collection's own close
    # must then not close the file that took that number since.
    from pybcc.maps import open_map
    coll = loader.load(build("loader_basic.bpf.c"))
    try:
        name, fd = next(iter(coll.map_fds.items()))
        dropped = open_map(fd, coll.spec.maps[name])
        del dropped                   # closes the map fd
        r, w = os.pipe()              # may take the same number
        fds = {r, w}
    finally:
        coll.close()
    try:
        for f in fds:
            os.fstat(f)               # still open: the collection did not close it
    finally:
        for f in fds:
            os.close(f)
