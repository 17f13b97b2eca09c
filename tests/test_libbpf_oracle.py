"""libbpf 1.1.2 as the oracle for whole-object loading (issue 2).

The bar: every program that libbpf loads from a CO-RE object built against
another kernel's types, pybcc loads too.

Corpus: every .bpf.c under tests/bpf/, pybcc/tools/ (globbed at test time)
and tests/oracle/, each compiled twice: against the running kernel's
vmlinux.h and against Debian 6.1's (tests/btf_fixtures.py), whose structs
differ from this kernel's.

For each object:
  libbpf  `bpftool prog loadall OBJ DIR` (one pin per loaded program); when
          libbpf fails the whole object, tests/oracle/libbpf_load.c (built
          here with gcc -lbpf, cached) loads the programs one at a time.
  pybcc   loader.load(obj, keep_going=True).
Both loaded programs are compared by their xlated (post-verifier)
instructions, with map ids blanked.

Run with -s to see the summary line and the per-program table.
"""
import ctypes
import glob
import hashlib
import os
import shutil
import struct
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Dict, Optional

import pytest

from pybcc import compiler, loader
from pybcc.errors import BPFError
from pybcc.kernel import syscalls

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
ORACLE_DIR = os.path.join(HERE, "oracle")
TOOLS_DIR = os.path.join(REPO, "pybcc", "tools")
TOOLS_INCLUDE = os.path.join(TOOLS_DIR, "include")
DRIVER_SRC = os.path.join(ORACLE_DIR, "libbpf_load.c")
BPFFS = "/sys/fs/bpf"

pytestmark = pytest.mark.usefixtures("root")


def corpus_sources():
    srcs = []
    for pattern in ("tests/bpf/*.bpf.c", "pybcc/tools/*.bpf.c", "tests/oracle/*.bpf.c"):
        srcs += sorted(glob.glob(os.path.join(REPO, pattern)))
    return srcs


# --- the libbpf side -----------------------------------------------------------

def _cache_dir():
    root = os.environ.get("PYBCC_CACHE_DIR") or "/var/cache/pybcc"
    d = os.path.join(root, "test-oracle")
    os.makedirs(d, exist_ok=True)
    return d


_driver_memo = {}


def libbpf_driver():
    """Path of the compiled tests/oracle/libbpf_load.c (cached by source hash)."""
    if "path" in _driver_memo:
        return _driver_memo["path"]
    if not shutil.which("gcc") or not os.path.exists("/usr/include/bpf/libbpf.h"):
        pytest.skip("needs gcc and libbpf-dev to build the libbpf oracle driver")
    with open(DRIVER_SRC, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:16]
    exe = os.path.join(_cache_dir(), f"libbpf_load-{digest}")
    if not os.path.exists(exe):
        tmp = exe + f".{os.getpid()}"
        r = subprocess.run(["gcc", "-O1", "-Wall", "-o", tmp, DRIVER_SRC, "-lbpf"],
                           capture_output=True, text=True)
        if r.returncode != 0:
            pytest.skip(f"cannot build the libbpf driver: {r.stderr.strip()[-500:]}")
        os.replace(tmp, exe)
    _driver_memo["path"] = exe
    return exe


def _pin_dir(tag):
    # bpffs refuses names with a dot
    d = os.path.join(BPFFS, f"pybcc_oracle_{os.getpid()}_{tag}".replace(".", "_"))
    _remove_pins(d)
    os.makedirs(d)
    return d


def _remove_pins(d):
    if os.path.isdir(d):
        for name in os.listdir(d):
            os.unlink(os.path.join(d, name))
        os.rmdir(d)


def _pinned(d):
    """{program name: normalized xlated insns} for every pin under d."""
    out = {}
    for name in sorted(os.listdir(d)):
        fd = syscalls.obj_get(os.path.join(d, name))
        try:
            out[name] = xlated(fd)
        finally:
            os.close(fd)
    return out


def _libbpf_reason(stderr):
    """The useful lines of libbpf's complaint (the verifier log is long)."""
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    keep = [ln for ln in lines if "libbpf:" in ln or "Error" in ln or "error" in ln]
    text = " | ".join((keep or lines)[-4:])
    return text[-400:] or "failed (no message)"


def libbpf_load(obj, prog_names, tag):
    """{program: Result} as libbpf loads obj: whole first, else one by one."""
    results = {}
    d = _pin_dir(tag)
    try:
        r = subprocess.run(["bpftool", "prog", "loadall", obj, d], capture_output=True,
                           text=True, timeout=300)
        pins = _pinned(d)
        whole_err = None if r.returncode == 0 else _libbpf_reason(r.stderr + r.stdout)
    finally:
        _remove_pins(d)
    if whole_err is None:
        for name in prog_names:
            if name in pins:
                results[name] = Result(True, xlated=pins[name])
            else:
                results[name] = Result(False, "not loaded by bpftool loadall (no pin)")
        return results, None
    driver = libbpf_driver()
    for name in prog_names:
        d = _pin_dir(tag)
        try:
            r = subprocess.run([driver, obj, d, name], capture_output=True, text=True, timeout=300)
            pins = _pinned(d)
        finally:
            _remove_pins(d)
        if name in pins:
            results[name] = Result(True, xlated=pins[name])
        else:
            results[name] = Result(False, _libbpf_reason(r.stderr + r.stdout))
    return results, whole_err


# --- the kernel's view of a loaded program --------------------------------------

# struct bpf_prog_info: xlated_prog_len at 20, xlated_prog_insns at 32.
_INFO_SIZE = 40
LD_IMM64 = 0x18
PSEUDO_MAP_FD, PSEUDO_MAP_VALUE, PSEUDO_MAP_IDX, PSEUDO_MAP_IDX_VALUE = 1, 2, 5, 6


def _map_name_by_id(map_id, memo={}):
    if map_id not in memo:
        from pybcc.kernel.uapi import Cmd
        from pybcc.maps.spec import map_info
        try:
            fd = syscalls.fd_by_id(Cmd.MAP_GET_FD_BY_ID, map_id)
        except OSError:
            return ""
        try:
            memo[map_id] = map_info(fd)["name"]
        finally:
            os.close(fd)
    return memo[map_id]


def xlated(fd):
    """The program's instructions after the verifier, with map ids blanked
    (they differ from load to load).

    Offsets into the .kconfig map are blanked too: that map is private to
    the object and libbpf orders its externs by alignment, size and name
    while pybcc keeps declaration order; either layout is correct."""
    info = ctypes.create_string_buffer(_INFO_SIZE)
    syscalls.obj_info(fd, info)
    n = struct.unpack_from("<I", info, 20)[0]
    buf = ctypes.create_string_buffer(max(n, 8))
    info = ctypes.create_string_buffer(_INFO_SIZE)
    struct.pack_into("<I", info, 20, n)
    struct.pack_into("<Q", info, 32, ctypes.addressof(buf))
    syscalls.obj_info(fd, info)
    raw = bytearray(buf.raw[:n])
    for off in range(0, len(raw) - 8, 8):
        if raw[off] == LD_IMM64 and (raw[off + 1] >> 4) in (
                PSEUDO_MAP_FD, PSEUDO_MAP_VALUE, PSEUDO_MAP_IDX, PSEUDO_MAP_IDX_VALUE):
            map_id = struct.unpack_from("<I", raw, off + 4)[0]
            if (raw[off + 1] >> 4) == PSEUDO_MAP_VALUE and _map_name_by_id(map_id).endswith("kconfig"):
                raw[off + 12:off + 16] = b"\0\0\0\0"
            raw[off + 4:off + 8] = b"\0\0\0\0"
    return bytes(raw)


# --- the pybcc side ---------------------------------------------------------------

@dataclass
class Result:
    ok: bool
    reason: str = ""
    xlated: Optional[bytes] = None

    @property
    def insns(self):
        return None if self.xlated is None else len(self.xlated) // 8


def pybcc_load(obj):
    results = {}
    try:
        coll = loader.load(obj, keep_going=True)
    except BPFError as e:
        return None, f"{type(e).__name__}: {e}"
    try:
        for name, prog in coll.programs.items():
            results[name] = Result(True, xlated=xlated(prog.fd))
        for name, err in coll.errors.items():
            results[name] = Result(False, f"{type(err).__name__}: {str(err).splitlines()[0][:300]}")
    finally:
        coll.close()
    return results, None


# --- the corpus run --------------------------------------------------------------

@dataclass
class ObjectRun:
    source: str
    flavor: str               # "host" or "6.1"
    obj: Optional[str] = None
    compile_error: str = ""
    programs: list = field(default_factory=list)
    libbpf: Dict[str, Result] = field(default_factory=dict)
    libbpf_whole_error: Optional[str] = None
    pybcc: Dict[str, Result] = field(default_factory=dict)
    pybcc_error: Optional[str] = None

    @property
    def label(self):
        return f"{os.path.relpath(self.source, REPO)}[{self.flavor}]"


def _compile(src, vmlinux):
    return compiler.compile(src, include_dirs=[TOOLS_INCLUDE], vmlinux=vmlinux)


def run_object(src, flavor, vmlinux, tag):
    run = ObjectRun(src, flavor)
    try:
        run.obj = _compile(src, vmlinux)
    except BPFError as e:
        run.compile_error = str(e).splitlines()[0][:300]
        return run
    from pybcc.object import load_spec
    spec = load_spec(run.obj)
    run.programs = [n for n, p in spec.programs.items()]
    run.libbpf, run.libbpf_whole_error = libbpf_load(run.obj, run.programs, tag)
    pyres, err = pybcc_load(run.obj)
    if pyres is None:
        run.pybcc_error = err
        pyres = {n: Result(False, f"whole object: {err}") for n in run.programs}
    for n in run.programs:
        pyres.setdefault(n, Result(False, "not loaded (pybcc skipped it)"))
    run.pybcc = pyres
    return run


@pytest.fixture(scope="module")
def oracle_runs():
    from tests.btf_fixtures import foreign_vmlinux_h_dir
    if not shutil.which("bpftool"):
        pytest.skip("needs bpftool (the libbpf oracle)")
    if subprocess.run(["mountpoint", "-q", BPFFS]).returncode != 0:
        pytest.skip(f"{BPFFS} is not a bpffs mount")
    foreign = foreign_vmlinux_h_dir()
    runs = []
    for i, src in enumerate(corpus_sources()):
        for flavor, vml in (("host", True), ("6.1", foreign)):
            runs.append(run_object(src, flavor, vml, f"{i}_{flavor}"))
    _report(runs)
    return runs


def _tally(runs):
    objects = [r for r in runs if r.obj]
    t = dict(objects=len(objects), programs=0, libbpf=0, pybcc=0, both=0, disagree=0,
             pybcc_only=0, xlated_same=0, xlated_diff=0, count_diff=0)
    for r in objects:
        for n in r.programs:
            lb, py = r.libbpf[n], r.pybcc[n]
            t["programs"] += 1
            t["libbpf"] += lb.ok
            t["pybcc"] += py.ok
            if lb.ok and py.ok:
                t["both"] += 1
                if lb.xlated == py.xlated:
                    t["xlated_same"] += 1
                else:
                    t["xlated_diff"] += 1
                    t["count_diff"] += lb.insns != py.insns
            elif lb.ok:
                t["disagree"] += 1
            elif py.ok:
                t["pybcc_only"] += 1
    return t


def _report(runs):
    out = sys.stdout
    print("\n--- libbpf oracle: per program (libbpf / pybcc / xlated insns) ---", file=out)
    for r in runs:
        if not r.obj:
            print(f"{r.label}: does not compile: {r.compile_error}", file=out)
            continue
        if r.libbpf_whole_error:
            print(f"{r.label}: libbpf fails the whole object ({r.libbpf_whole_error[:200]}); "
                  f"loaded one by one", file=out)
        for n in r.programs:
            lb, py = r.libbpf[n], r.pybcc[n]
            same = ("same" if lb.xlated == py.xlated else f"DIFFER {lb.insns} vs {py.insns}") \
                if lb.ok and py.ok else "-"
            print(f"  {r.label} {n}: libbpf {'ok' if lb.ok else 'FAIL'} / "
                  f"pybcc {'ok' if py.ok else 'FAIL'} / xlated {same}", file=out)
            if lb.ok and not py.ok:
                print(f"      DISAGREE: pybcc: {py.reason}", file=out)
            elif py.ok and not lb.ok:
                print(f"      pybcc only; libbpf 1.1.2: {lb.reason}", file=out)
            elif not lb.ok and not py.ok:
                print(f"      both fail; libbpf: {lb.reason[:160]} / pybcc: {py.reason[:160]}",
                      file=out)
    t = _tally(runs)
    print(f"oracle: {t['objects']} objects, {t['programs']} programs; libbpf loads {t['libbpf']}, "
          f"pybcc loads {t['pybcc']}, both {t['both']}, disagree {t['disagree']} "
          f"(pybcc only {t['pybcc_only']}; xlated identical {t['xlated_same']}/{t['both']}, "
          f"instruction count differs {t['count_diff']})", file=out)


# --- the assertions -----------------------------------------------------------------

def test_corpus_compiles_for_both_kernels(oracle_runs):
    bad = [f"{r.label}: {r.compile_error}" for r in oracle_runs if not r.obj]
    # Tools may legitimately use fields only the host has; our own corpus may not.
    ours = [b for b in bad if "tests/" in b]
    assert not ours, "\n".join(ours)


def test_every_program_libbpf_loads_pybcc_loads(oracle_runs):
    t = _tally(oracle_runs)
    bad = [f"{r.label} {n}: {r.pybcc[n].reason}" for r in oracle_runs if r.obj
           for n in r.programs if r.libbpf[n].ok and not r.pybcc[n].ok]
    assert t["disagree"] == 0 and not bad, "\n".join(bad)
    assert t["libbpf"] > 0


def test_xlated_instruction_counts_agree(oracle_runs):
    bad = [f"{r.label} {n}: libbpf {r.libbpf[n].insns} insns, pybcc {r.pybcc[n].insns}"
           for r in oracle_runs if r.obj for n in r.programs
           if r.libbpf[n].ok and r.pybcc[n].ok and r.libbpf[n].insns != r.pybcc[n].insns]
    assert not bad, "\n".join(bad)


def test_xlated_instructions_identical(oracle_runs):
    bad = [f"{r.label} {n}" for r in oracle_runs if r.obj for n in r.programs
           if r.libbpf[n].ok and r.pybcc[n].ok and r.libbpf[n].xlated != r.pybcc[n].xlated]
    assert not bad, "xlated instructions differ (same count):\n" + "\n".join(bad)
