"""Fuzz targets: pybcc's readers of untrusted input, driven by hypothesis.

Each Target has a hypothesis strategy that mutates real inputs (seeds.py)
and a ``check(value)`` that feeds one input to the reader. A reader may
reject an input only with one of pybcc's typed errors (pybcc.errors); any
other exception, a run longer than DEADLINE seconds of CPU time, or a failed round trip
(an AssertionError) is a finding. Values are bytes or (label, bytes) and are
kept as files under tests/data/fuzz/TARGET/ once they found something.
"""
import contextlib
import copy
import os
import re
import signal
import tempfile

from hypothesis import strategies as st

from pybcc.errors import BPFError

import seeds

# Seconds per input: longer is a hang (benchmarks/fuzz.py raises it under coverage).
DEADLINE = float(os.environ.get("PYBCC_FUZZ_DEADLINE", "3"))
DATA_DIR = os.path.join(seeds.ROOT, "tests", "data", "fuzz")


class Hang(Exception):
    """An input kept the reader busy longer than DEADLINE."""


# A hang is the reader spinning, so the deadline counts this process's CPU
# time: on a loaded machine wall time is not evidence (clang, which the
# dialect runs for packet programs, once took over 3 s of wall time beside
# the load). The wall clock stays as a backstop, for a child that never ends.
WALL_FACTOR = 10


@contextlib.contextmanager
def deadline(seconds=None):
    seconds = seconds or DEADLINE

    def fire(signum, _frame):
        if signum == signal.SIGPROF:
            raise Hang(f"no result after {seconds:g} s of CPU time")
        raise Hang(f"no result after {seconds * WALL_FACTOR:g} s")
    old = {sig: signal.signal(sig, fire) for sig in (signal.SIGPROF, signal.SIGALRM)}
    # Fire again every 0.2 s: a raise inside a gc callback is swallowed.
    signal.setitimer(signal.ITIMER_PROF, seconds, 0.2)
    signal.setitimer(signal.ITIMER_REAL, seconds * WALL_FACTOR, 0.2)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.setitimer(signal.ITIMER_REAL, 0)
        for sig, handler in old.items():
            signal.signal(sig, handler)


# --- mutation strategies ----------------------------------------------------------

_BYTES = [0, 1, 0x7F, 0x80, 0xFF]
_WORDS = [0, 1, 2, 4, 8, 12, 16, 24, 0x7F, 0xFF, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000,
          0xFFFFFFFF, 0xFFFFFFFE]


@st.composite
def mutated_bytes(draw, blob, focus=None):
    """``blob`` with a few byte flips, interesting words, cuts and inserts.
    ``focus`` (lo, hi): half of the edits land in that range."""
    data = bytearray(blob)
    for _ in range(draw(st.integers(0, 8))):
        if not data:
            break
        if focus and focus[1] > focus[0] and draw(st.booleans()):
            pos = draw(st.integers(focus[0], min(focus[1], len(data)) - 1)) if focus[0] < len(data) else 0
        else:
            pos = draw(st.integers(0, len(data) - 1))
        op = draw(st.integers(0, 6))
        if op == 0:
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == 1:
            data[pos] = draw(st.sampled_from(_BYTES))
        elif op in (2, 3):
            pos &= ~3
            word = draw(st.sampled_from(_WORDS) | st.integers(0, 0xFFFFFFFF))
            data[pos:pos + 4] = word.to_bytes(4, "little")
        elif op == 4:
            del data[pos:pos + draw(st.integers(1, 64))]
        elif op == 5:
            data[pos:pos] = draw(st.binary(min_size=1, max_size=16))
        else:
            del data[pos:]
    return bytes(data)


def labelled(blobs, focus=None):
    """One of {label: blob}, mutated → (label, bytes)."""
    items = sorted(blobs.items())
    return st.sampled_from(items).flatmap(
        lambda kv: mutated_bytes(kv[1], focus(kv[1]) if focus else None).map(lambda d: (kv[0], d)))


_TOKEN = re.compile(r"\w+|\s+|.", re.S)
_VOCAB = ["(", ")", "{", "}", "[", "]", ",", ";", "\"", "'", "#", "\\", "\n", "@", "%", "$",
          "0x", "-1", "99999999999999999999", "0", "BPF_HASH", "BPF_PERF_OUTPUT", "TRACEPOINT_PROBE",
          "lookup", "increment", "perf_submit", "args", "->", ".", "*", "struct", "int", "char",
          "\xff", "\u00e9", "field:", "offset:", "size:", "signed:", "__data_loc", "name:", "ID:"]


@st.composite
def mutated_text(draw, text):
    """``text`` with a few tokens deleted, repeated, swapped or inserted."""
    toks = _TOKEN.findall(text)
    for _ in range(draw(st.integers(0, 6))):
        if not toks:
            break
        i = draw(st.integers(0, len(toks) - 1))
        op = draw(st.integers(0, 4))
        if op == 0:
            del toks[i:i + draw(st.integers(1, 8))]
        elif op == 1:
            toks.insert(i, toks[draw(st.integers(0, len(toks) - 1))])
        elif op == 2:
            toks.insert(i, draw(st.sampled_from(_VOCAB)))
        elif op == 3:
            toks[i] = draw(st.sampled_from(_VOCAB) | st.text(max_size=4))
        else:
            del toks[i:]
    return "".join(toks)


def mutated_texts(texts):
    return st.sampled_from(sorted(texts)).flatmap(mutated_text)


# --- targets ------------------------------------------------------------------------

class Target:
    name = ""
    modules = ()          # what coverage is measured on
    extra_allowed = ()    # documented non-BPFError rejections (none so far)

    def strategy(self):
        raise NotImplementedError

    def check(self, value):
        raise NotImplementedError

    def run(self, value):
        """Feed one input; returns normally or raises a finding."""
        with deadline():
            try:
                self.check(value)
            except (BPFError,) + self.extra_allowed:
                pass

    # regression inputs: files tests/data/fuzz/NAME/LABEL-*.bin
    def to_file(self, value):
        label, data = value if isinstance(value, tuple) else ("", value)
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogatepass")
        return label, data

    def from_file(self, label, data):
        return (label, data) if label else data


class ObjectTarget(Target):
    name = "object"
    modules = ("pybcc/elf_reader.py", "pybcc/sections.py", "pybcc/asm.py")

    def strategy(self):
        return labelled(seeds.objects())

    def check(self, value):
        from pybcc import elf_reader as objmod
        label, data = value
        objmod.load_spec(data, label, memo=False)


class BTFTarget(Target):
    name = "btf"
    modules = ("pybcc/btf/types.py",)

    def strategy(self):
        blobs = dict(seeds.btf_blobs())
        blobs["vmlinux-cut"] = seeds.kernel_btf_cut()
        # The header and the first types are where most of the structure is.
        return labelled(blobs, focus=lambda b: (0, min(len(b), 4096)))

    def check(self, value):
        from pybcc.btf import BTF
        _, data = value
        btf = BTF.parse(data)
        again = BTF.parse(btf.to_bytes())     # round trip: the same types
        assert [(t.kind, t.name, t.size, t.ref, t.members) for t in again.own_types] == \
            [(t.kind, t.name, t.size, t.ref, t.members) for t in btf.own_types], "BTF round trip differs"
        for t in btf.own_types:
            btf.type_name(t)
        # a lazy parse (the kernel's BTF is read so) finds the same types, by id and by name
        lazy = BTF.parse(data, lazy=True)
        assert len(lazy) == len(btf), "lazy BTF parse counts other types"
        for t in btf.own_types:
            assert lazy[t.id] == t, f"lazy BTF parse differs at #{t.id}"
        # by name: a name is a whole string of the table (a lazy lookup finds
        # "\0name\0"); a blob whose names share another string's tail ("nt"
        # in "count": no BTF writer makes one) is not compared
        strings, offsets = lazy._strings, memoryview(lazy.own_types._name_column).cast("I")
        if all(off == 0 or strings[off - 1] == 0 for off in offsets):
            for name in {t.name for t in btf.own_types[:50] if t.name}:
                assert [t.id for t in lazy.find_all(name)] == [t.id for t in btf.find_all(name)], \
                    f"lazy BTF finds other types called {name!r}"


class BTFExtTarget(Target):
    name = "btf_ext"
    modules = ("pybcc/btf/ext.py",)

    def strategy(self):
        return labelled(seeds.btf_ext_blobs())

    def check(self, value):
        from pybcc.btf.ext import BTFExt
        label, data = value
        ext = BTFExt.parse(data, seeds.specs()[label].btf)
        for groups in (ext.func_info, ext.line_info, ext.core_relos):
            for sec_name in groups:     # records are decoded on first use
                groups[sec_name]


class CoreTarget(Target):
    """CO-RE relocations of the tools' objects against a mutated (cut-down)
    kernel BTF: whatever the kernel BTF says, a LoadError or a result."""
    name = "core"
    modules = ("pybcc/btf/core.py",)

    def strategy(self):
        tools = sorted(n for n, s in seeds.specs().items() if seeds.core_relos(s))
        cut = seeds.kernel_btf_cut()
        return st.tuples(st.sampled_from(tools), mutated_bytes(cut, focus=(0, len(cut) * 3 // 4)))

    def check(self, value):
        from pybcc.btf import BTF, core
        label, data = value
        try:
            target = BTF.parse(data)
        except BPFError:
            return      # the BTF parser's business (target "btf")
        spec = seeds.specs()[label]
        for sec, relos in seeds.core_relos(spec).items():
            insns = copy.deepcopy(spec.sections[sec].insns)
            core.relocate(insns, relos, spec.btf, target, section=sec)


class UsdtNotesTarget(Target):
    name = "usdt_notes"
    modules = ("pybcc/usdt/notes.py", "pybcc/symbols/elf.py")

    def strategy(self):
        elves = {os.path.basename(p): e for p, e in seeds.usdt_elves().items()}
        return labelled(elves)

    def check(self, value):
        from pybcc.symbols.elf import ElfFile
        from pybcc.usdt import args, notes
        label, data = value
        for loc in notes.parse_elf(ElfFile(data), label):
            try:
                args.parse_args(loc.args, loc.machine)
            except BPFError:
                pass


# x86_64 and aarch64 registers as sys/sdt.h writes them, with their pt_regs member.
_X86_REGS = {"rax": "ax", "eax": "ax", "rbx": "bx", "ebx": "bx", "rcx": "cx", "rdx": "dx",
             "rsi": "si", "esi": "si", "rdi": "di", "edi": "di", "rbp": "bp", "rsp": "sp",
             "r8": "r8", "r9d": "r9", "r12": "r12", "r15w": "r15", "r13b": "r13"}


@st.composite
def usdt_arg(draw):
    """A valid argument text and the Arg fields it must parse to."""
    size = draw(st.sampled_from([1, 2, 4, 8]))
    signed = draw(st.booleans())
    prefix = f"{-size if signed else size}@"
    num = draw(st.integers(-(1 << 31), (1 << 31) - 1))
    reg = draw(st.sampled_from(sorted(_X86_REGS)))
    form = draw(st.integers(0, 4))
    want = dict(size=size, signed=signed)
    if form == 0:
        return prefix + f"${num}", dict(want, kind=0, off=num)
    if form == 1:
        return prefix + f"%{reg}", dict(want, kind=1, reg=_X86_REGS[reg])
    if form == 2:
        return prefix + f"{num}(%{reg})", dict(want, kind=2, reg=_X86_REGS[reg], off=num)
    if form == 3:
        idx = draw(st.sampled_from(sorted(_X86_REGS)))
        scale = draw(st.sampled_from([1, 2, 4, 8]))
        return (prefix + f"{num}(%{reg},%{idx},{scale})",
                dict(want, kind=3, reg=_X86_REGS[reg], off=num, index=_X86_REGS[idx], scale=scale))
    sym = draw(st.from_regex(r"[A-Za-z_][A-Za-z0-9_.]{0,12}", fullmatch=True))
    return prefix + f"{sym}{num:+d}(%rip)", dict(want, kind=2, reg="ip", off=num, symbol=sym)


class UsdtArgsTarget(Target):
    name = "usdt_args"
    modules = ("pybcc/usdt/args.py",)

    def strategy(self):
        valid = st.lists(usdt_arg(), min_size=1, max_size=4).map(
            lambda args: ("valid", " ".join(t for t, _ in args), [w for _, w in args]))
        fuzzed = st.tuples(st.sampled_from(["x86", "arm64"]),
                           mutated_texts(seeds.usdt_arg_strings() + ["-4@[sp, 16] 8@x1 4@#5 -8@[x2,-8]"]),
                           st.none())
        return valid | fuzzed

    def check(self, value):
        from pybcc.usdt import args
        label, text, want = value
        got = args.parse_args(text, args.EM_AARCH64 if label == "arm64" else args.EM_X86_64)
        if want is not None:      # round trip: the fields the text was made from
            assert len(got) == len(want), (text, got)
            for a, w in zip(got, want):
                assert all(getattr(a, k) == v for k, v in w.items()), (text, a, w)

    def to_file(self, value):
        return value[0], value[1].encode("utf-8", "surrogatepass")

    def from_file(self, label, data):
        return label, data.decode("utf-8", "surrogatepass"), None


@st.composite
def format_file(draw):
    """A tracefs format file and the fields it describes."""
    fields, off = [], 8
    for i in range(draw(st.integers(0, 6))):
        name = f"f{i}_" + draw(st.from_regex(r"[a-z_]{0,8}", fullmatch=True))
        ctype, size, alen, dloc = draw(st.sampled_from([
            ("int", 4, 0, False), ("unsigned long", 8, 0, False), ("const char *", 8, 0, False),
            ("char[16]", 16, 16, False), ("u8[6]", 6, 6, False), ("char[]", 4, 0, True),
            ("pid_t", 4, 0, False)]))
        signed = draw(st.booleans())
        fields.append((name, ctype, off, size, signed, dloc, alen))
        off += size
    lines = ["name: fuzz_event", "ID: %d" % draw(st.integers(0, 99999)), "format:"]
    for name, ctype, o, size, signed, dloc, alen in fields:
        if ctype.endswith("]"):
            base, _, dim = ctype.partition("[")
            decl = f"{base} {name}[{dim}"
        else:
            decl = f"{ctype} {name}"
        decl = ("__data_loc " if dloc else "") + decl
        lines.append(f"\tfield:{decl};\toffset:{o};\tsize:{size};\tsigned:{int(signed)};")
    lines.append('\nprint fmt: "x=%d", REC->x')
    return "\n".join(lines) + "\n", fields


class TracefsTarget(Target):
    name = "tracefs"
    modules = ("pybcc/kernel/tracefs.py",)

    def strategy(self):
        return (format_file().map(lambda v: ("valid", v[0], v[1]))
                | mutated_texts(seeds.tracefs_formats()).map(lambda t: ("fuzz", t, None)))

    def check(self, value):
        from pybcc.kernel import tracefs
        _, text, want = value
        fmt = tracefs.parse_format(text)
        if want is not None:
            got = [(f.name, f.type, f.offset, f.size, f.signed, f.data_loc, f.array_len)
                   for f in fmt.fields]
            assert got == want, (got, want)

    def to_file(self, value):
        return value[0], value[1].encode("utf-8", "surrogatepass")

    def from_file(self, label, data):
        return label, data.decode("utf-8", "surrogatepass"), None


class KallsymsTarget(Target):
    name = "kallsyms"
    modules = ("pybcc/symbols/kallsyms.py",)

    def strategy(self):
        return labelled({"kallsyms": seeds.kallsyms_slice()})

    def check(self, value):
        from pybcc.symbols.kallsyms import KernelSymbols
        _, data = value
        with tempfile.NamedTemporaryFile(prefix="pybcc-fuzz-kallsyms-") as f:
            f.write(data)
            f.flush()
            ks = KernelSymbols(f.name)
            n = len(ks)
            for addr in (0, 0xFFFFFFFF81000000, 0xFFFFFFFFFFFFFFFF, 0xFFFFFFFFC0000000):
                ks.lookup(addr)
            for name in ("_text", "do_sys_openat2", "", "x\ty"):
                ks.address(name)
            ks.functions("vfs_*")
            assert n >= 0


class ElfSymsTarget(Target):
    name = "elfsyms"
    modules = ("pybcc/symbols/elfsyms.py", "pybcc/symbols/elf.py")

    def strategy(self):
        blobs = {}
        for path in ("/usr/bin/true", "/usr/bin/env"):
            try:
                with open(path, "rb") as f:
                    blobs[os.path.basename(path)] = f.read()
            except OSError:
                pass
        blobs.update({"usdt-" + os.path.basename(p): e for p, e in seeds.usdt_elves().items()})
        blobs["bitesize.o"] = seeds.objects().get("bitesize", b"")
        # ELF and section headers are at the two ends of the file.
        return labelled(blobs, focus=lambda b: (0, 256)) | labelled(
            blobs, focus=lambda b: (max(0, len(b) - 2048), len(b)))

    def check(self, value):
        from pybcc.symbols.elfsyms import ElfSymbols
        label, data = value
        syms = ElfSymbols(label, image=data)
        for addr in (0, 0x1000, 0x4000, 0x401000, 1 << 63):
            syms.lookup(addr)
            off = syms.vaddr_to_offset(addr)
            if off is not None:
                syms.offset_to_vaddr(off)
        syms.find("main")
        syms.match("m*")


def _record_types():
    """[(tool, type id)] of the named structs in the tools' BTF."""
    from pybcc.btf import types as bt
    out = []
    for name, spec in sorted(seeds.specs().items()):
        for t in spec.btf.own_types:
            if t.kind in (bt.STRUCT, bt.UNION) and t.name and t.size:
                out.append((name, t.id))
    return out


def _has_union(btf, type_id, depth=0):
    from pybcc.btf import types as bt
    t = btf.strip(type_id)
    if t.kind == bt.UNION:
        return True
    if t.kind == bt.ARRAY:
        return _has_union(btf, t.ref, depth + 1)
    return t.kind == bt.STRUCT and depth < 16 and any(_has_union(btf, m.type, depth + 1) for m in t.members)


class CodecTarget(Target):
    """Records decoded from the bytes the kernel hands over: every named
    struct of the tools' BTF, from any bytes of its size or another size."""
    name = "codec"
    modules = ("pybcc/maps/codec.py",)
    extra_allowed = (NotImplementedError,)   # btf_codec: a type without fixed layout

    def strategy(self):
        return st.sampled_from(_record_types()).flatmap(
            lambda tt: st.binary(max_size=512).map(lambda b: (f"{tt[0]}.{tt[1]}", b)))

    def check(self, value):
        from pybcc.maps.codec import btf_codec
        label, data = value
        tool, type_id = label.rsplit(".", 1)
        try:
            codec = btf_codec(seeds.specs()[tool].btf, int(type_id), chars="bytes")
        except NotImplementedError:
            return
        data = (data * (codec.size // max(len(data), 1) + 1))[:codec.size] if len(data) % 3 else data
        rec = codec.decode(data)
        # Round trip: decode(encode(decode(b))) == decode(b). Not through unions:
        # encoding writes every member of a union in turn and the last one wins.
        if len(data) == codec.size and not _has_union(seeds.specs()[tool].btf, int(type_id)):
            again = codec.decode(bytes(codec.encode(rec)))
            assert again == rec, (rec, again)


class DialectTarget(Target):
    """The bcc C dialect rewriter (without clang's implicit-read analysis)."""
    name = "dialect"
    modules = ("pybcc/bcc/dialect",)

    def strategy(self):
        return mutated_texts(seeds.bcc_programs()).map(lambda t: ("", t))

    def check(self, value):
        from pybcc.bcc.dialect import rewrite
        _, text = value
        rewrite(text, implicit_reads=False, use_cache=False)

    def from_file(self, label, data):
        return "", data.decode("utf-8", "surrogatepass")


TARGETS = [ObjectTarget(), BTFTarget(), BTFExtTarget(), CoreTarget(), UsdtNotesTarget(),
           UsdtArgsTarget(), TracefsTarget(), KallsymsTarget(), ElfSymsTarget(), CodecTarget(),
           DialectTarget()]
BY_NAME = {t.name: t for t in TARGETS}


def regression_inputs(target):
    """[(file, value)] kept under tests/data/fuzz/NAME/."""
    d = os.path.join(DATA_DIR, target.name)
    out = []
    for fn in sorted(os.listdir(d)) if os.path.isdir(d) else []:
        label = fn.rsplit("-", 1)[0] if "-" in fn else ""
        with open(os.path.join(d, fn), "rb") as f:
            out.append((fn, target.from_file(label, f.read())))
    return out


def save_finding(target, value):
    """Keep a finding as tests/data/fuzz/NAME/LABEL-SHA.bin; returns the path."""
    import hashlib
    label, data = target.to_file(value)
    d = os.path.join(DATA_DIR, target.name)
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, f"{label or 'input'}-{hashlib.sha256(data).hexdigest()[:12]}.bin")
    with open(path, "wb") as f:
        f.write(data)
    return path
