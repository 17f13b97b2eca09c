"""Real inputs the fuzz targets start from, built once per process.

- the tools' compiled objects (pybcc/tools/prebuilt/ARCH/*.bpf.o), without their
  DWARF (llvm-objcopy --strip-debug) so that mutations land in what pybcc reads;
- the running kernel's BTF, cut down to the types the tools' CO-RE
  relocations need (pointers to structs become forward declarations);
- python3.11's USDT notes, copied into a small ELF file of their own;
- tracefs format files of this kernel, and a slice of /proc/kallsyms;
- bcc C programs from tests/bcc_scripts.
"""
import ast
import copy
import functools
import glob
import os
import shutil
import struct
import subprocess
import tempfile

from pybcc import elf_reader as objmod
from pybcc.btf import BTF
from pybcc.btf import types as bt
from pybcc.btf.ext import BTFExt
from pybcc.symbols.elf import ElfFile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
try:
    from pybcc.tools.lib.prebuilt import PREBUILT_DIR
    from pybcc import compiler as _compiler
    PREBUILT = os.path.join(PREBUILT_DIR, _compiler.target_arch())
except ImportError:     # before the tools' library moved
    PREBUILT = os.path.join(ROOT, "pybcc", "tools", "prebuilt")
# A few small and a few CO-RE-heavy tools keep the runs short but varied.
SEED_TOOLS = ["funccount", "bitesize", "sigsnoop", "execsnoop", "opensnoop", "tcplife",
              "runqlat", "memleak"]
PYTHONS = ["/usr/bin/python3.11", "/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0"]


def _strip_debug(path):
    objcopy = shutil.which("llvm-objcopy-16") or shutil.which("llvm-objcopy")
    if objcopy is None:
        with open(path, "rb") as f:
            return f.read()
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "o")
        subprocess.run([objcopy, "--strip-debug", path, out], check=True)
        with open(out, "rb") as f:
            return f.read()


@functools.lru_cache(None)
def objects():
    """{tool: stripped object bytes}; run `python3 -m pybcc.tools.prebuilt` first."""
    out = {}
    for name in SEED_TOOLS:
        path = os.path.join(PREBUILT, name + ".bpf.o")
        if os.path.exists(path):
            out[name] = _strip_debug(path)
    if not out:
        raise RuntimeError(f"no tool objects in {PREBUILT}: run python3 -m pybcc.tools.lib.prebuilt")
    return out


@functools.lru_cache(None)
def specs():
    return {name: objmod.load_spec(data, name) for name, data in objects().items()}


def section_bytes(data, name):
    elf = ElfFile(data)
    sec = elf.section(name)
    return bytes(data[sec.offset:sec.offset + sec.size]) if sec else None


@functools.lru_cache(None)
def btf_blobs():
    """{tool: raw .BTF} of the objects."""
    return {n: section_bytes(d, ".BTF") for n, d in objects().items() if section_bytes(d, ".BTF")}


@functools.lru_cache(None)
def btf_ext_blobs():
    """{tool: raw .BTF.ext} of the objects."""
    return {n: section_bytes(d, ".BTF.ext") for n, d in objects().items()
            if section_bytes(d, ".BTF.ext")}


def core_relos(spec):
    """{section: [CoreRelo]} of an ObjectSpec."""
    if not spec.btf_ext_data:
        return {}
    return {s: r for s, r in BTFExt.parse(spec.btf_ext_data, spec.btf).core_relos.items()
            if r and s in spec.sections}


def _subset(kbtf, root_ids):
    """A standalone BTF holding root_ids and everything they contain by value.
    Pointers to structs/unions point at a FWD of the same name instead, which
    keeps task_struct's closure to a few thousand types."""
    new, idmap, fwds = [], {0: 0}, {}

    def fwd(t):
        key = (t.name, t.kind == bt.UNION)
        if key not in fwds:
            new.append(bt.Type(0, bt.FWD, t.name, kind_flag=t.kind == bt.UNION))
            fwds[key] = len(new)
        return fwds[key]

    def visit(tid):
        if tid in idmap:
            return idmap[tid]
        t = kbtf[tid]
        nt = copy.copy(t)
        nt.members = [copy.copy(m) for m in t.members]
        new.append(nt)
        idmap[tid] = nt.id = len(new)
        if t.kind == bt.PTR:
            target = kbtf.strip(t.ref)
            if target.kind in (bt.STRUCT, bt.UNION) and target.name:
                nt.ref = fwd(target)
                return nt.id
        if t.kind in (bt.PTR, bt.TYPEDEF, bt.VOLATILE, bt.CONST, bt.RESTRICT, bt.TYPE_TAG,
                      bt.FUNC, bt.VAR, bt.FUNC_PROTO, bt.DECL_TAG):
            nt.ref = visit(t.ref)
        if t.kind == bt.ARRAY:
            nt.ref, nt.index_type = visit(t.ref), visit(t.index_type)
        if t.kind in (bt.STRUCT, bt.UNION, bt.FUNC_PROTO, bt.DATASEC):
            for m in nt.members:
                m.type = visit(m.type)
        return nt.id

    for tid in root_ids:
        visit(tid)
    return BTF(new).to_bytes()


@functools.lru_cache(None)
def kernel_btf_cut():
    """Raw BTF: the kernel's types that the seed objects' CO-RE relocations name."""
    from pybcc.btf.core import essential_name
    kbtf = BTF.kernel()
    names = set()
    for spec in specs().values():
        for relos in core_relos(spec).values():
            for r in relos:
                names.add(essential_name(spec.btf[r.type_id].name))
    roots = [t.id for t in kbtf.own_types if t.name in names
             and t.kind in (bt.STRUCT, bt.UNION, bt.ENUM, bt.ENUM64, bt.TYPEDEF, bt.INT)]
    return _subset(kbtf, roots)


def _note_elf(path):
    """A small ELF64 file with the .note.stapsdt and .stapsdt.base of ``path``
    and its PT_LOAD headers (the note reader needs no more)."""
    with open(path, "rb") as f:
        data = f.read()
    elf = ElfFile(data)
    note, base = elf.section(".note.stapsdt"), elf.section(".stapsdt.base")
    if note is None:
        return None
    loads = [s for s in elf.segments if s.type == 1]
    secs = [("", 0, 0, b""), (".note.stapsdt", 7, note.addr, data[note.offset:note.offset + note.size])]
    if base is not None:
        secs.append((".stapsdt.base", 1, base.addr, data[base.offset:base.offset + base.size]))
    names = b"\0" + b"".join(n.encode() + b"\0" for n, *_ in secs[1:]) + b".shstrtab\0"
    secs.append((".shstrtab", 3, 0, names))
    phoff = 64
    body_off = phoff + 56 * len(loads)
    out = bytearray(body_off)
    placed = []
    for name, typ, addr, blob in secs:
        placed.append((name, typ, addr, len(out) if blob else 0, len(blob)))
        out += blob
    shoff = len(out)
    for name, typ, addr, off, size in placed:
        name_off = names.find(name.encode() + b"\0") if name else 0
        out += struct.pack("<IIQQQQIIQQ", name_off, typ, 2 if addr else 0, addr, off, size, 0, 0, 1, 0)
    struct.pack_into("<4sBBBB8sHHIQQQIHHHHHH", out, 0, b"\x7fELF", 2, 1, 1, 0, b"", elf.type,
                     elf.machine, 1, 0, phoff, shoff, 0, 64, 56, len(loads), 64, len(placed),
                     len(placed) - 1)
    for i, s in enumerate(loads):
        struct.pack_into("<IIQQQQQQ", out, phoff + 56 * i, 1, s.flags, s.offset, s.vaddr,
                         s.vaddr, s.filesz, s.memsz, 0x1000)
    return bytes(out)


@functools.lru_cache(None)
def usdt_elves():
    """{python file: small ELF with its USDT notes}."""
    return {p: e for p in PYTHONS if os.path.exists(p) for e in [_note_elf(p)] if e}


@functools.lru_cache(None)
def usdt_arg_strings():
    from pybcc.usdt import notes
    out = []
    for p in usdt_elves():
        out += [loc.args for loc in notes.read_probes(p) if loc.args]
    return out or ["8@%rbx 8@%r15", "-4@-20(%rbp)", "8@$42", "4@8(%rax,%rdx,8)"]


@functools.lru_cache(None)
def tracefs_formats():
    from pybcc.kernel import tracefs
    out = []
    for pat in ("sched/sched_switch", "sched/sched_process_exec", "syscalls/sys_enter_openat",
                "block/block_rq_issue", "sock/inet_sock_set_state", "irq/softirq_entry",
                "skb/kfree_skb", "raw_syscalls/sys_enter"):
        p = os.path.join(tracefs.mount_point() or "/sys/kernel/tracing", "events", pat, "format")
        try:
            with open(p) as f:
                out.append(f.read())
        except OSError:
            pass
    return out


@functools.lru_cache(None)
def kallsyms_slice():
    """The first few thousand lines of /proc/kallsyms and any module lines."""
    try:
        with open("/proc/kallsyms", "rb") as f:
            lines = f.read().splitlines(keepends=True)
    except OSError:
        return b"ffffffff81000000 T _text\nffffffff81000010 t helper\n"
    mods = [ln for ln in lines if b"\t[" in ln][:50]
    return b"".join(lines[:3000] + mods)


@functools.lru_cache(None)
def bcc_programs():
    """The bcc C texts embedded in tests/bcc_scripts/*.py (string constants
    that look like BPF C)."""
    out = []
    for path in sorted(glob.glob(os.path.join(ROOT, "tests", "bcc_scripts", "*.py"))):
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read())
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                    and ("BPF_" in node.value or "bpf_" in node.value) and "{" in node.value:
                out.append(node.value)
    return out
