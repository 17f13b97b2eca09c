"""vmlinux.h generation: compiles, declares what bpftool declares, layouts match BTF."""
import os
import re
import shutil
import struct
import subprocess
import time

import pytest

from pybcc.btf import cgen, closure
from pybcc.btf.extract import btf_from_vmlinuz
from pybcc.btf.types import (ARRAY, BTF, CONST, ENUM, ENUM64, FUNC_PROTO, FWD, INT, PTR, RESTRICT, VOLATILE,
                             STRUCT, TYPE_TAG, TYPEDEF, UNION, EnumValue, Member, Param, Type)

import btf_fixtures

KERNEL_BTF = "/sys/kernel/btf/vmlinux"
CLANG = shutil.which("clang-16") or shutil.which("clang")
BPFTOOL = shutil.which("bpftool")

need_clang = pytest.mark.skipif(CLANG is None, reason="clang not installed")
need_bpftool = pytest.mark.skipif(BPFTOOL is None, reason="bpftool (the oracle) not installed")
need_kernel_btf = pytest.mark.skipif(not os.path.exists(KERNEL_BTF), reason="kernel has no BTF")


# --- helpers -------------------------------------------------------------------

def compile_bpf(tmp_path, header_text, source, name="prog"):
    """Compile ``source`` with ``header_text`` as vmlinux.h; returns the object path."""
    (tmp_path / "vmlinux.h").write_text(header_text)
    src = tmp_path / f"{name}.c"
    src.write_text(source)
    obj = tmp_path / f"{name}.o"
    r = subprocess.run([CLANG, "-target", "bpf", "-O2", "-g", "-Wall", "-Werror",
                        "-I", str(tmp_path), "-c", str(src), "-o", str(obj)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[:5000]
    return obj


def core_relo_count(obj):
    """Bytes of CO-RE relocation records in the object's .BTF.ext (0 if none)."""
    from elftools.elf.elffile import ELFFile
    with open(obj, "rb") as f:
        sec = ELFFile(f).get_section_by_name(".BTF.ext")
        if sec is None:
            return 0
        data = sec.data()
    hdr_len = struct.unpack_from("<I", data, 4)[0]
    if hdr_len < 32:
        return 0
    return struct.unpack_from("<I", data, 28)[0]


_ATTR = re.compile(r"__attribute__\s*\(\((?:[^()]|\([^()]*\))*\)\)")
_TAG = re.compile(r"__pybcc_type_tag\(\"[^\"]*\"\)")


def _strip_braces(s):
    out, depth = [], 0
    for ch in s:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif depth == 0:
            out.append(ch)
    return "".join(out)


def _typedef_name(decl):
    d = _TAG.sub("", _ATTR.sub("", _strip_braces(decl))).rstrip().rstrip(";").rstrip()
    m = re.search(r"\(\s*\*\s*(?:const\s+)?(\w+)\s*\)", d)
    if m:                                  # typedef int (*name)(...);
        return m.group(1)
    while d.endswith(")") or d.endswith("]"):   # drop trailing [N] and (params)
        close = d[-1]
        opening = "(" if close == ")" else "["
        depth = 0
        for i in range(len(d) - 1, -1, -1):
            if d[i] == close:
                depth += 1
            elif d[i] == opening:
                depth -= 1
                if depth == 0:
                    break
        d = d[:i].rstrip()
    return re.search(r"(\w+)$", d).group(1)


def declared_names(text):
    """{(kind, name)} of the struct/union/enum/typedef declarations at file scope."""
    names = set()
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        m = re.match(r"(struct|union|enum) (\w+)( \{|;)", line)
        if m:
            names.add((m.group(1), m.group(2)))
        elif line.startswith("typedef "):
            decl = line
            while not (decl.rstrip().endswith(";") and decl.count("{") == decl.count("}")):
                i += 1
                decl += "\n" + lines[i]
            names.add(("typedef", _typedef_name(decl)))
        i += 1
    return names


def layout_checks(btf, gen, ids=None):
    """C lines asserting sizeof and offsetof of named structs/unions as in BTF.
    Types holding a va_list by value are left out: __builtin_va_list is 8
    bytes for -target bpf but 24 on x86-64."""
    va = {t.id for t in btf.find_all("__builtin_va_list")}
    holds_va = {}

    def has_va(tid):
        t = btf[tid]
        while t.kind in (TYPEDEF, CONST, VOLATILE, RESTRICT, TYPE_TAG, ARRAY):
            if t.id in va:
                return True
            t = btf[t.ref]
        if t.kind not in (STRUCT, UNION):
            return False
        if t.id not in holds_va:
            holds_va[t.id] = False
            holds_va[t.id] = any(has_va(m.type) for m in t.members)
        return holds_va[t.id]

    def members(t, base):
        for m in t.members:
            if not m.name:
                st = btf.strip(m.type)
                if st.kind in (STRUCT, UNION):
                    yield from members(st, base + m.bit_offset)
            elif not gen._bits(m):
                yield m.name, base + m.bit_offset

    lines = []
    for t in btf:
        if t.kind not in (STRUCT, UNION) or not t.name or t.id not in gen.names:
            continue
        if ids is not None and t.id not in ids or has_va(t.id):
            continue
        c = f"{'struct' if t.kind == STRUCT else 'union'} {gen.names[t.id]}"
        lines.append(f'_Static_assert(sizeof({c}) == {t.size}, "{c}");')
        for name, off in members(t, 0):
            lines.append(f'_Static_assert(__builtin_offsetof({c}, {name}) == {off // 8}, "{c}.{name}");')
    return lines


# --- synthetic BTF: each layout feature in isolation ------------------------------

def make_btf(*types):
    btf = BTF([])
    for t in types:
        btf.add(t)
    return btf


def synthetic():
    """A small BTF with the tricky cases; ids are fixed by order."""
    I = lambda n, size, enc=1: Type(0, INT, n, size=size, encoding=enc, bits=size * 8)  # noqa: E731
    return make_btf(
        I("int", 4),                                                     # 1
        I("char", 1, 0),                                                 # 2
        I("long long unsigned int", 8, 0),                               # 3
        Type(0, PTR, ref=5),                                             # 4  struct node *
        # struct node: bitfields with a hole and trailing padding
        Type(0, STRUCT, "node", size=24, kind_flag=True, members=[
            Member("next", 4, 0), Member("a", 1, 64, 3), Member("b", 1, 80, 5),
            Member("c", 2, 96)]),                                        # 5
        # packed: u64 at offset 1
        Type(0, STRUCT, "pk", size=9, members=[Member("x", 2, 0), Member("y", 3, 8)]),  # 6
        Type(0, ARRAY, ref=1, index_type=1, nelems=3),                   # 7  int[3]
        Type(0, ARRAY, ref=7, index_type=1, nelems=2),                   # 8  int[2][3]
        Type(0, ARRAY, ref=2, index_type=1, nelems=0),                   # 9  char[0]
        # anonymous union inside, multi-dim array, flexible array
        Type(0, STRUCT, "outer", size=40, members=[
            Member("m", 8, 0), Member("", 11, 192), Member("tail", 9, 320)]),  # 10
        Type(0, UNION, "", size=8, members=[Member("u1", 1, 0), Member("u2", 3, 0)]),  # 11
        # typedef of a function proto, and a pointer to it
        Type(0, FUNC_PROTO, ref=1, members=[Param("", 4), Param("", 0)]),  # 12 int (struct node *, ...)
        Type(0, TYPEDEF, "cb_t", ref=12),                                # 13
        Type(0, PTR, ref=13),                                            # 14
        # name collision: a second, different struct node
        Type(0, STRUCT, "node", size=4, members=[Member("v", 1, 0)]),    # 15
        Type(0, STRUCT, "user", size=16, members=[
            Member("f", 14, 0), Member("n2", 15, 64)]),                  # 16
        Type(0, ENUM64, "big", size=8, members=[EnumValue("BIG_A", 1), EnumValue("BIG_B", 1 << 40)]),  # 17
        Type(0, ENUM, "small", size=1, members=[EnumValue("SM_A", 1)]),  # 18
        Type(0, STRUCT, "with_enums", size=16, members=[
            Member("e1", 18, 0), Member("e8", 17, 64)]),                 # 19
        # typedef cycle: typedef struct lst lst_t; struct lst { lst_t *next; }
        Type(0, TYPEDEF, "lst_t", ref=21),                               # 20
        Type(0, STRUCT, "lst", size=8, members=[Member("next", 22, 0)]),  # 21
        Type(0, PTR, ref=20),                                            # 22
        Type(0, TYPE_TAG, "user", ref=2),                                # 23
        Type(0, PTR, ref=23),                                            # 24 char __user *
        Type(0, CONST, ref=24),                                          # 25
        Type(0, STRUCT, "tagged", size=8, members=[Member("p", 25, 0)]),  # 26
        Type(0, FWD, "opaque"),                                          # 27
        Type(0, PTR, ref=27),                                            # 28
        Type(0, STRUCT, "has_opaque", size=8, members=[Member("o", 28, 0)]),  # 29
        # over-aligned: 64-byte struct with one int (aligned(64) in the source)
        Type(0, STRUCT, "cacheline", size=64, members=[Member("i", 1, 0)]),  # 30
        Type(0, STRUCT, "holds_cl", size=128, members=[Member("c", 2, 0), Member("cl", 30, 512)]),  # 31
        Type(0, ENUM, "", size=1, members=[EnumValue("ANON_A", 1)]),    # 32 one-byte anonymous enum
        I("__int128 unsigned", 16, 0),                                   # 33
        Type(0, PTR, ref=8),                                             # 34 int (*)[2][3]
        Type(0, FUNC_PROTO, ref=14, members=[Param("", 1)]),             # 35 cb_t *(int)
        Type(0, PTR, ref=35),                                            # 36
        Type(0, VOLATILE, ref=1),                                        # 37
        Type(0, STRUCT, "misc", size=64, members=[
            Member("e", 32, 0), Member("big", 33, 128), Member("pa", 34, 256),
            Member("getcb", 36, 320), Member("vi", 37, 384)]),           # 38
        # a union wider than its members (aligned(8) on an int member in the source)
        Type(0, UNION, "wide", size=8, members=[Member("i", 1, 0)]),     # 39
        Type(0, STRUCT, "holds_wide", size=16, members=[Member("c", 2, 0), Member("w", 39, 64)]),  # 40
    )


@need_clang
@pytest.mark.parametrize("type_tags", [True, False])
def test_synthetic_layouts(tmp_path, type_tags):
    btf = BTF.parse(synthetic().to_bytes())      # round trip through the encoder too
    gen = cgen.CGenerator(btf, type_tags=type_tags)
    text = gen.generate()
    assert "struct node___2 {" in text and "} __attribute__((packed));" in text
    assert "typedef int cb_t(struct node *, ...);" in text
    assert "int m[2][3];" in text and "char tail[0];" in text
    assert "struct opaque;" in text
    assert ("__pybcc_type_tag(\"user\")" in text) == type_tags
    assert text.index("typedef struct lst lst_t;") < text.index("struct lst {")
    assert "int (*pa)[2][3];" in text and "cb_t *(*getcb)(int);" in text
    checks = layout_checks(btf, gen)
    assert len(checks) > 20
    src = "#include \"vmlinux.h\"\n" + "\n".join(checks) + "\n" + \
        "int use(struct user *u, struct with_enums *w) { return u->f(0, 1) + BIG_B + SM_A + w->e1; }\n" \
        "int use2(struct misc *m) { return (*m->pa)[1][2] + m->getcb(1)(0) + m->vi + ANON_A; }\n"
    compile_bpf(tmp_path, text, src)


# --- the running kernel's BTF ----------------------------------------------------

@pytest.fixture(scope="module")
def kernel():
    if not os.path.exists(KERNEL_BTF):
        pytest.skip("kernel has no BTF")
    btf = BTF.load(KERNEL_BTF)
    gen = cgen.CGenerator(btf)
    t = time.perf_counter()
    text = gen.generate()
    print(f"generated vmlinux.h in {time.perf_counter() - t:.2f}s")
    return btf, gen, text


PROG = r"""
#include "vmlinux.h"
#define SEC(n) __attribute__((section(n), used))
char LICENSE[] SEC("license") = "GPL";

SEC("tp_btf/sys_enter")
int handle(struct trace_event_raw_sys_enter *ctx)
{
	struct task_struct *t = (struct task_struct *)ctx->args[0];
	struct sk_buff *skb = (struct sk_buff *)ctx->args[1];
	int pid = t->pid;
	unsigned int len = skb->len;
	return pid + len + ctx->id + BPF_MAP_TYPE_HASH + BPF_MAP_TYPE_RINGBUF;
}
"""


@need_clang
@need_kernel_btf
def test_kernel_header_compiles(kernel, tmp_path):
    _, _, text = kernel
    obj = compile_bpf(tmp_path, text, PROG)
    assert core_relo_count(obj) > 0, "preserve_access_index did not produce CO-RE relocations"


@need_bpftool
@need_kernel_btf
def test_kernel_names_match_bpftool(kernel):
    _, _, text = kernel
    ref = subprocess.run([BPFTOOL, "btf", "dump", "file", KERNEL_BTF, "format", "c"],
                         capture_output=True, text=True, check=True).stdout
    ours, theirs = declared_names(text), declared_names(ref)
    assert len(theirs) > 1000
    assert ours - theirs == set() and theirs - ours == set()


@need_clang
@need_kernel_btf
def test_kernel_layouts(kernel, tmp_path):
    btf, gen, text = kernel
    # A sample of a few hundred records, plus every one that needs packing or
    # padding or has bitfields (the interesting ones).
    named = [t for t in btf if t.kind in (STRUCT, UNION) and t.name]
    ids = {t.id for t in named[::max(1, len(named) // 400)]}
    for t in named:
        lay = gen.layout(t.id)
        if lay.packed or any(m is None or bits for m, bits in lay.items):
            ids.add(t.id)
    checks = layout_checks(btf, gen, ids)
    assert len(checks) > 400
    compile_bpf(tmp_path, text, "#include \"vmlinux.h\"\n" + "\n".join(checks) + "\n")


@need_kernel_btf
def test_generation_speed(kernel):
    btf, _, _ = kernel
    # CPU time, not wall time: test hosts are often busy with other work.
    t = time.process_time()
    cgen.generate(btf)
    elapsed = time.process_time() - t
    assert elapsed < 2, f"generation took {elapsed:.1f}s of CPU"


# --- a program's own header: only the types it names (closure.py) ----------------

@need_clang
@need_kernel_btf
def test_closure_header_compiles_with_whole_layouts(tmp_path):
    """The types PROG names, and what they hold by value, laid out as in BTF;
    a few kilobytes instead of megabytes, and no type decoded beyond those."""
    btf = BTF.kernel()
    kt = closure.KernelTypes(btf)
    tags, idents = closure.words(PROG)
    text = kt.header(tags, idents)
    assert 1000 < len(text) < 400_000
    assert "struct task_struct {" in text and "struct sk_buff {" in text
    assert "struct mm_struct;" in text            # through a pointer only: declared
    assert "struct mm_struct {" not in text
    obj = compile_bpf(tmp_path, text, PROG)
    assert core_relo_count(obj) > 0
    gen = cgen.CGenerator(btf, decode_all=False)
    gen.generate(kt.ids_for(tags, idents))
    defined = {i for i in gen.names if gen.state[i] == cgen._DONE}
    checks = layout_checks(btf, gen, defined)
    assert len(checks) > 100
    compile_bpf(tmp_path, text, PROG + "\n".join(checks) + "\n", name="layouts")


@need_clang
@need_kernel_btf
def test_closure_learns_what_clang_finds_incomplete(tmp_path):
    kt = closure.KernelTypes(BTF.kernel())
    prog = PROG.replace("int pid = t->pid;", "int pid = t->mm->map_count;")
    tags, idents = closure.words(prog)
    (tmp_path / "vmlinux.h").write_text(kt.header(tags, idents))
    (tmp_path / "p.c").write_text(prog)
    r = subprocess.run([CLANG, "-target", "bpf", "-fsyntax-only", "-I", str(tmp_path),
                        str(tmp_path / "p.c")], capture_output=True, text=True)
    assert r.returncode != 0 and "mm_struct" in r.stderr
    assert kt.missing(r.stderr) == ({"mm_struct"}, set())
    assert kt.missing("error: unknown type name 'pid_t'\nerror: use of undeclared "
                      "identifier 'BPF_ANY'\nerror: use of undeclared identifier 'nonsense'") \
        == (set(), {"pid_t", "BPF_ANY"})
    compile_bpf(tmp_path, kt.header(tags | {"mm_struct"}, idents), prog)


@need_kernel_btf
def test_closure_facts_match_whole_header(kernel):
    """Record names, bitfields and member lists the bcc dialect reads from
    the BTF are what the whole vmlinux.h declares."""
    btf, _, text = kernel
    kt = closure.KernelTypes(BTF.kernel())
    records = set(re.findall(r"^(?:struct|union) (\w+) \{", text, re.M))
    # cgen's de-duplicated names (an enum and a struct format_state) end in ___N
    assert kt.record_names() == {re.sub(r"___\d+$", "", r) for r in records}
    tags = set(re.findall(r"^(?:struct|union|enum) (\w+)", text, re.M))
    assert {re.sub(r"___\d+$", "", t) for t in tags} <= kt.type_names()
    # Named bitfields of each record, and of its anonymous members (C names
    # those through the record); not those of a nested member with a name.
    bitfields, rec, blocks = set(), None, []
    for line in text.splitlines():
        if line.startswith(("struct ", "union ")) and line.endswith("{"):
            rec, blocks = line.split()[1], [set()]
        elif rec is None:
            continue
        elif line.startswith("}"):
            if not re.search(r"___\d+$", rec):
                bitfields |= {(rec, m) for m in blocks[0]}
            rec = None
        elif line.rstrip().endswith("{"):
            blocks.append(set())
        elif line.lstrip().startswith("}"):
            inner = blocks.pop()
            if re.match(r"\s*}( __attribute__\(\(packed\)\))?;$", line):
                blocks[-1] |= inner
        else:
            m = re.search(r"\b([a-z_]\w*): \d+;", line)
            if m and m.group(1) not in ("char", "short", "int", "long"):
                blocks[-1].add(m.group(1))
    assert len(bitfields) > 500
    assert all(kt.has_bitfield(r, m) for r, m in bitfields)
    assert not kt.has_bitfield("task_struct", "pid") and not kt.has_bitfield("nosuch", "x")
    for name in ("task_struct", "sk_buff", "sock_common"):
        m = re.search(r"^struct %s \{\n(.*?)^\};" % name, text, re.M | re.S)
        assert kt.record_body("struct", name) == m.group(1)


# --- the cache -------------------------------------------------------------------

@need_kernel_btf
def test_cache(tmp_path, monkeypatch, kernel):
    monkeypatch.setenv("PYBCC_CACHE_DIR", str(tmp_path / "cache"))
    d = cgen.vmlinux_header(KERNEL_BTF)
    assert d.startswith(str(tmp_path / "cache" / "vmlinux"))
    assert os.stat(d).st_mode & 0o777 == 0o700
    assert os.stat(os.path.dirname(d)).st_mode & 0o777 == 0o700
    assert open(os.path.join(d, "vmlinux.h")).read() == kernel[2]
    assert sorted(os.listdir(d)) == ["vmlinux.h", "vmlinux.h.sha256"]   # no temp file left behind

    # A hit must not parse BTF, even in a fresh process (no in-memory memo).
    cgen._memo.clear()

    def no_parse(*a, **k):
        raise AssertionError("BTF parsed on a cache hit")
    monkeypatch.setattr(BTF, "parse", no_parse)
    t = time.perf_counter()
    assert cgen.vmlinux_header(KERNEL_BTF) == d
    assert time.perf_counter() - t < 0.5


def test_cache_refuses_shared_dir(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    (cache / "vmlinux").mkdir(parents=True)
    os.chmod(cache / "vmlinux", 0o777)
    btf_file = tmp_path / "x.btf"
    btf_file.write_bytes(synthetic().to_bytes())
    monkeypatch.setenv("PYBCC_CACHE_DIR", str(cache))
    with pytest.raises(PermissionError):
        cgen.vmlinux_header(str(btf_file))


# --- extraction and a foreign kernel (Debian 6.1) ---------------------------------

def test_extract_raw_and_elf(tmp_path):
    raw = synthetic().to_bytes()
    p = tmp_path / "raw.btf"
    p.write_bytes(raw)
    assert btf_from_vmlinuz(str(p)) == raw
    if CLANG:
        # An ELF with a .BTF section: any BPF object will do.
        src = tmp_path / "e.c"
        src.write_text("struct s { int a; } v;\n")
        subprocess.run([CLANG, "-target", "bpf", "-g", "-c", str(src), "-o", str(tmp_path / "e.o")],
                       check=True)
        btf = BTF.parse(btf_from_vmlinuz(str(tmp_path / "e.o")))
        assert btf.find("s", STRUCT).size == 4


@pytest.fixture(scope="module")
def foreign():
    path = btf_fixtures.foreign_btf_path()
    btf = BTF.load(path)
    gen = cgen.CGenerator(btf)
    return path, btf, gen, gen.generate()


def test_foreign_btf_is_6_1(foreign):
    _, btf, _, _ = foreign
    # 6.1 has struct task_struct but not the 6.6+ struct bpf_token.
    assert btf.find("task_struct", STRUCT)
    assert not btf.find_all("bpf_token", STRUCT)


@need_clang
def test_foreign_header_compiles(foreign, tmp_path):
    obj = compile_bpf(tmp_path, foreign[3], PROG)
    assert core_relo_count(obj) > 0


@need_bpftool
def test_foreign_names_match_bpftool(foreign):
    path, _, _, text = foreign
    ref = subprocess.run([BPFTOOL, "btf", "dump", "file", path, "format", "c"],
                         capture_output=True, text=True, check=True).stdout
    ours, theirs = declared_names(text), declared_names(ref)
    assert ours - theirs == set() and theirs - ours == set()


@need_clang
def test_foreign_layouts(foreign, tmp_path):
    _, btf, gen, text = foreign
    checks = layout_checks(btf, gen)
    compile_bpf(tmp_path, text, "#include \"vmlinux.h\"\n" + "\n".join(checks) + "\n")


def test_foreign_fixture_dir(foreign):
    d = btf_fixtures.foreign_vmlinux_h_dir()
    assert open(os.path.join(d, "vmlinux.h")).read() == foreign[3]


@need_clang
@pytest.mark.parametrize("codec", ["xz", "gzip", "bzip2"])
def test_extract_from_bzimage(tmp_path, codec):
    """A fake bzImage: setup header with the payload fields, then a compressed ELF."""
    import bz2
    import gzip
    import lzma
    src = tmp_path / "e.c"
    src.write_text("struct s { long a; } v;\n")
    subprocess.run([CLANG, "-target", "bpf", "-g", "-c", str(src), "-o", str(tmp_path / "e.o")], check=True)
    elf = (tmp_path / "e.o").read_bytes()
    payload = {"xz": lambda b: lzma.compress(b, format=lzma.FORMAT_XZ),
               "gzip": gzip.compress, "bzip2": bz2.compress}[codec](elf)
    setup = bytearray(5 * 512)                # setup_sects = 4, plus the boot sector
    setup[0x1F1] = 4
    setup[0x202:0x206] = b"HdrS"
    struct.pack_into("<II", setup, 0x248, 100, len(payload))
    image = bytes(setup) + b"\0" * 100 + payload + b"trailer"
    (tmp_path / "vmlinuz").write_bytes(image)
    btf = BTF.parse(btf_from_vmlinuz(str(tmp_path / "vmlinuz")))
    assert btf.find("s", STRUCT).size == 8


def test_malformed_btf_terminates():
    # An anonymous struct pointing to itself, a struct containing itself.
    b = make_btf(Type(0, INT, "int", size=4, encoding=1, bits=32),
                 Type(0, STRUCT, "", size=8, members=[Member("p", 3, 0)]),
                 Type(0, PTR, ref=2),
                 Type(0, TYPEDEF, "T", ref=2),
                 Type(0, STRUCT, "self", size=4, members=[Member("s", 5, 0)]))
    text = cgen.generate(b)
    assert "} T;" in text and "struct self {" in text
