"""Symbol resolution: kallsyms, ELF tables, process maps, debug files, demangling."""
import ctypes
import lzma
import os
import shutil
import sys
import subprocess

import pytest

from pybcc import symbols as S
from pybcc.errors import BPFError
from pybcc.symbols import debuginfo, elfsyms, kallsyms, libpath, perfmap, procmaps, resolver
from pybcc.symbols.preadarray import PreadArray

HAVE_GCC = shutil.which("gcc") is not None
HAVE_GXX = shutil.which("g++") is not None
HAVE_OBJCOPY = shutil.which("objcopy") is not None and shutil.which("strip") is not None

C_PROG = r"""
#include <stdio.h>
#include <unistd.h>
static int __attribute__((noinline)) hidden_helper(int x) { return x * 3 + 1; }
int visible_function(int x) { return hidden_helper(x) + 2; }
int main(void) {
    printf("%lx %lx\n", (unsigned long)&hidden_helper, (unsigned long)&visible_function);
    fflush(stdout);
    char buf[8];
    (void)!read(0, buf, sizeof buf);  /* wait until the test closes stdin */
    return visible_function(1) == 0;
}
"""

CXX_PROG = r"""
#include <cstdio>
#include <unistd.h>
namespace shapes {
struct Circle { double r; double area(int scale) const; };
double __attribute__((noinline)) Circle::area(int scale) const { return 3.14 * r * r * scale; }
}
int main() {
    double (shapes::Circle::*p)(int) const = &shapes::Circle::area;
    void *addr; __builtin_memcpy(&addr, &p, sizeof addr);
    std::printf("%lx\n", (unsigned long)addr);
    std::fflush(stdout);
    char buf[8];
    (void)!read(0, buf, sizeof buf);
    shapes::Circle c{2}; return c.area(1) < 0;
}
"""


def _kallsyms_readable():
    try:
        with open("/proc/kallsyms") as f:
            return int(f.readline().split()[0], 16) != 0
    except (OSError, ValueError, IndexError):
        return False


needs_kallsyms = pytest.mark.skipif(not _kallsyms_readable(),
                                    reason="/proc/kallsyms shows no addresses (needs root)")
needs_gcc = pytest.mark.skipif(not HAVE_GCC, reason="gcc not installed")


def build(tmp_path, source=C_PROG, name="prog", extra=(), cc="gcc"):
    ext = ".cc" if cc == "g++" else ".c"
    src = tmp_path / (name + ext)
    src.write_text(source)
    out = tmp_path / name
    subprocess.run([cc, "-g", "-O1", *extra, "-o", str(out), str(src)], check=True)
    return str(out)


class Child:
    """A compiled program that prints its addresses and waits for stdin to close."""

    def __init__(self, path):
        self.proc = subprocess.Popen([path], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.addrs = [int(x, 16) for x in self.proc.stdout.readline().split()]
        self.pid = self.proc.pid

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=10)
        S.forget(self.pid)


@pytest.fixture
def child_of():
    children = []

    def start(path):
        c = Child(path)
        children.append(c)
        return c
    yield start
    for c in children:
        c.close()


# ---- kernel symbols ---------------------------------------------------------

def test_kallsyms_parse_synthetic(tmp_path):
    f = tmp_path / "kallsyms"
    f.write_text("ffffffff81000100 T beta\n"
                 "ffffffff81000000 T alpha\n"
                 "ffffffff81000100 t beta_alias\n"
                 "ffffffffc0001000 t modfunc\t[mymod]\n")
    k = kallsyms.KernelSymbols(str(f))
    assert k.lookup(0xffffffff81000010) == ("alpha", 0x10, "kernel")
    assert k.lookup(0xffffffffc0001004) == ("modfunc", 4, "mymod")
    assert k.lookup(0x1000) is None
    assert k.address("beta") == 0xffffffff81000100
    assert k.address("modfunc", "mymod") == 0xffffffffc0001000
    assert k.address("missing") is None
    assert k.type_of("beta_alias") == "t"


def test_kallsyms_zero_addresses_are_an_error(tmp_path):
    f = tmp_path / "kallsyms"
    f.write_text("0000000000000000 T a\n0000000000000000 T b\n")
    with pytest.raises(BPFError, match="zero addresses"):
        len(kallsyms.KernelSymbols(str(f)))


@needs_kallsyms
def test_kallsyms_round_trip():
    addr = S.ksymname("schedule")
    assert addr > 0
    assert S.kernel_symbols().lookup(addr + 4) == ("schedule", 4, "kernel")
    assert S.ksym(addr) == "schedule"
    assert S.ksym(addr + 0x10, show_offset=True) == "schedule+0x10"
    assert S.ksym(addr, show_module=True) == "schedule [kernel]"
    assert S.ksymname("no_such_symbol_xyz") == -1
    assert S.sym(addr, -1) == "schedule"
    assert S.sym(0x10, -1, show_module=True) == "[unknown]"


@needs_kallsyms
def test_kallsyms_addresses_of_many_names_at_once(tmp_path, monkeypatch):
    """addresses(names) (vfscount's report) gives what address() gives for
    each name, from the memo and from a plain file alike, in one pass over
    the text; a name the kernel lacks is left out."""
    from pybcc import cache
    monkeypatch.setenv("PYBCC_CACHE_DIR", str(tmp_path))
    cache._checked.clear()
    names = ["vfs_read", "vfs_write", "vfs_open", "vfs_fsync_range", "vfs_unlink", "vfs_rename",
             "vfs_getattr", "vfs_statx", "vfs_mkdir", "vfs_create"]
    for table in (kallsyms.KernelSymbols(), kallsyms.KernelSymbols()):   # (the 2nd: memo)
        each = {n: table.address(n) for n in names}
        assert table.addresses(names) == {n: a for n, a in each.items() if a is not None}
        assert each["vfs_read"] is not None
    copy = tmp_path / "kallsyms-copy"
    shutil.copyfile("/proc/kallsyms", copy)
    plain = kallsyms.KernelSymbols(str(copy))
    assert plain.addresses(names + ["vfs_no_such_function"]) == \
        kallsyms.KernelSymbols().addresses(names)
    assert plain.addresses(["schedule", "vfs_read"]) == \
        {"schedule": plain.address("schedule"), "vfs_read": plain.address("vfs_read")}


@needs_kallsyms
def test_kallsyms_load_is_fast():
    import time
    t = time.perf_counter()
    k = kallsyms.KernelSymbols()
    assert len(k) > 1000
    assert time.perf_counter() - t < 0.3 * 3  # generous: CI machines vary


@needs_kallsyms
def test_kallsyms_memo_answers_as_the_file(tmp_path, monkeypatch, capfd):
    """The per-boot memo of the core kernel's lines (mapped from the cache)
    plus the modules' and BPF programs' lines read live give the answers a
    parse of the whole /proc/kallsyms gives; a damaged memo is rebuilt."""
    from pybcc import cache
    from pybcc.symbols import kallsyms_memo
    monkeypatch.setenv("PYBCC_CACHE_DIR", str(tmp_path))
    cache._checked.clear()
    whole = tmp_path / "kallsyms-copy"
    shutil.copyfile("/proc/kallsyms", whole)
    ref = kallsyms.KernelSymbols(str(whole))         # not /proc/kallsyms: parsed whole
    # BPF programs come and go (other tests, other users): both read one snapshot
    read, read_after_core = kallsyms._read, kallsyms._read_after_core
    monkeypatch.setattr(kallsyms, "_read",
                        lambda path: read(str(whole) if path == kallsyms.KALLSYMS else path))
    monkeypatch.setattr(kallsyms, "_read_after_core", lambda path: read_after_core(
        str(whole) if path == kallsyms.KALLSYMS else path))
    first = kallsyms.KernelSymbols()
    assert first.lookup(first.address("schedule") + 3)[0] == "schedule"
    assert kallsyms_memo.load() is not None           # written by the first reader
    memo = kallsyms.KernelSymbols()
    core = memo._core_table()
    assert core.text.fd is not None                   # the memo file: its lines read
    assert isinstance(core.addrs, PreadArray)         # and its arrays searched with pread
    data = whole.read_bytes().splitlines()
    sample = data[::max(1, len(data) // 400)] + data[-20:]   # BPF programs are listed last
    for line in sample:
        addr = int(line.split()[0], 16)
        for probe in (addr, addr + 1):
            assert memo.lookup(probe) == ref.lookup(probe), hex(probe)
        name = line.split()[2].decode()
        module = line.split(b"\t[")[1][:-1].decode() if b"\t[" in line else None
        assert memo.address(name, module) == ref.address(name, module), name
    assert memo.lookup(0x1000) is None
    assert memo.address("no_such_symbol_xyz") is None
    assert memo.functions("^vfs_rea") == ref.functions("^vfs_rea")
    # a truncated memo is refused in one line and rebuilt
    path = os.path.join(str(tmp_path), "kallsyms", cache.boot_id())
    os.truncate(path, os.path.getsize(path) // 2)
    assert kallsyms_memo.load() is None
    assert "truncated" in capfd.readouterr().err
    again = kallsyms.KernelSymbols()
    assert again.lookup(first.address("schedule"))[0] == "schedule"
    assert kallsyms_memo.load() is not None
    cache._checked.clear()


def test_pread_array_searches_as_bisect(tmp_path):
    """PreadArray.bisect_right answers as bisect over the same values, at
    and between them, across block boundaries, with duplicates."""
    import bisect
    import random
    from array import array
    rnd = random.Random(16)
    for count in (0, 1, 5, PreadArray.BLOCK, PreadArray.BLOCK + 1, 5000):
        for typecode, top in (("Q", 1 << 64), ("I", 1 << 32)):
            values = array(typecode, sorted(rnd.randrange(top) for _ in range(count)))
            if count > 10:
                values[3:9] = array(typecode, [values[3]] * 6)      # a run of equal values
            path = tmp_path / f"values-{count}-{typecode}"
            path.write_bytes(b"head" + values.tobytes())
            fd = os.open(path, os.O_RDONLY)
            try:
                pa = PreadArray(fd, 4, count, typecode)
                assert len(pa) == count and list(pa[i] for i in range(count)) == list(values)
                probes = [0, top - 1] + [v + d for v in values[::7] for d in (-1, 0, 1) if 0 <= v + d < top]
                for x in probes:
                    assert pa.bisect_right(x) == bisect.bisect_right(values, x), (count, x)
            finally:
                os.close(fd)


# ---- ELF tables ---------------------------------------------------------------

def test_libc_getpid_by_name_and_address():
    path = S.find_library("c")
    assert path and os.path.basename(path).startswith("libc.so")
    syms = S.load_elf(path)
    getpid = syms.find("getpid")
    assert getpid is not None and getpid.size > 0
    assert syms.lookup(getpid.vaddr + 1) == ("getpid", 1)
    # The same function as mapped into this very process.
    libc = ctypes.CDLL(None)
    addr = ctypes.cast(libc.getpid, ctypes.c_void_p).value
    name, off, module = S.symbol_cache(os.getpid()).resolve(addr)
    assert (name, off) == ("getpid", 0)
    assert os.path.basename(module).startswith("libc.so")
    assert S.symbol_cache(os.getpid()).resolve_name("c", "getpid") == addr
    assert S.sym(addr + 2, os.getpid(), show_module=True, show_offset=True) == \
        "getpid+0x2 [%s]" % os.path.basename(module)


def test_symbol_address_for_uprobes():
    path, offset, vaddr = S.symbol_address("c", "getpid")
    assert path.endswith(".so.6")
    with open(path, "rb") as f:  # the file offset must hold the function's first bytes
        f.seek(offset)
        assert len(f.read(4)) == 4
    assert S.load_elf(path).offset_to_vaddr(offset) == vaddr
    with pytest.raises(LookupError):
        S.symbol_address("c", "no_such_function_xyz")
    with pytest.raises(LookupError):
        S.symbol_address("no_such_lib_xyz", "f")


def test_elf_cache_reuses_and_notices_rebuild(tmp_path):
    src = S.find_library("c")
    a = S.load_elf(src)
    assert S.load_elf(src) is a


def test_pyelftools_agrees_on_symbols():
    from elftools.elf.elffile import ELFFile
    path = S.find_library("c")
    ours = S.load_elf(path)
    with open(path, "rb") as f:
        dynsym = ELFFile(f).get_section_by_name(".dynsym")
        theirs = {}
        for s in dynsym.iter_symbols():
            if s["st_info"]["type"] in ("STT_FUNC", "STT_GNU_IFUNC", "STT_LOOS") and s["st_shndx"] != "SHN_UNDEF" and s.name:
                theirs.setdefault(s.name, set()).add(s["st_value"])
    assert len(theirs) > 1000
    for name, values in theirs.items():
        # Several versions of one name: ours is the default one, among them.
        hit = ours.find(name)
        assert hit is not None and hit.vaddr in values, name
    lio = ours.find("lio_listio64")
    if lio is not None and len(theirs.get("lio_listio64", ())) > 1:
        assert ours.lookup(lio.vaddr)[0] in ("lio_listio64", "lio_listio")


# ---- library names --------------------------------------------------------------

def test_find_library_forms():
    libc = S.find_library("c")
    assert S.find_library("libc") == libc
    assert S.find_library("libc.so.6") == libc
    assert S.find_library("/some/full/path.so") == "/some/full/path.so"
    assert S.find_library("no_such_lib_xyz") is None
    in_proc = S.find_library("c", os.getpid())
    assert os.path.samefile(in_proc, libc)
    assert S.find_binary("sh") and S.resolve_module("sh") == shutil.which("sh")


def test_ld_so_cache_parse():
    entries = libpath.read_ld_so_cache()
    if not entries:
        pytest.skip("no /etc/ld.so.cache")
    assert any(so.startswith("libc.so") for so, _ in entries)
    assert all(p.startswith("/") for _, p in entries)


# ---- maps, perf maps, formatting -------------------------------------------------

def test_parse_maps():
    text = ("55d0c0000000-55d0c0001000 r--p 00000000 08:01 1234   /usr/bin/my prog\n"
            "55d0c0001000-55d0c0002000 r-xp 00001000 08:01 1234   /usr/bin/my prog (deleted)\n"
            "7ffd00000000-7ffd00002000 r-xp 00000000 00:00 0      [vdso]\n"
            "7f0000000000-7f0000001000 rw-p 00000000 00:00 0 \n")
    m = procmaps.parse_maps(text)
    assert [x.path for x in m] == ["/usr/bin/my prog", "/usr/bin/my prog", "[vdso]", ""]
    assert m[1].deleted and not m[0].deleted and m[1].offset == 0x1000
    assert procmaps.is_file_backed(m[0]) and not procmaps.is_file_backed(m[2])


def test_lazy_maps_parse_as_parse_maps():
    """LazyMaps (the resolver's, parsed line by line when asked) gives the
    mappings parse_maps gives, for this process and a deleted-file line."""
    text = open("/proc/self/maps").read() + \
        "7f0000000000-7f0000001000 r-xp 00001000 08:01 42   /tmp/gone (deleted)\n"
    lazy = procmaps.LazyMaps(text)
    full = procmaps.parse_maps(text)
    assert lazy.starts == [m.start for m in full]
    assert list(lazy) == full and lazy[len(full) - 1].deleted
    assert procmaps.read_maps_lazily(os.getpid())[0] == procmaps.read_maps(os.getpid())[0]


def test_perf_map(tmp_path):
    f = tmp_path / "perf-1.map"
    f.write_text("1000 20 jit_one\n0x2000 10 LazyCompile:*foo bar.js:1\nbogus\n")
    pm = perfmap.PerfMap(str(f))
    assert pm.lookup(0x1005) == ("jit_one", 5)
    assert pm.lookup(0x2001) == ("LazyCompile:*foo bar.js:1", 1)
    assert pm.lookup(0x1020) is None


def test_format_symbol():
    assert S.format_symbol("f", 0x12, "/lib/libx.so", True, True) == "f+0x12 [libx.so]"
    assert S.format_symbol("f", 0x12, "/lib/libx.so") == "f"
    assert S.format_symbol(None, 5, "/lib/libx.so", False, True) == "[unknown]"
    assert S.format_symbol(None, 5, "/lib/libx.so", True, True) == "[unknown] [libx.so]"


def test_demangle():
    assert S.demangle("_ZN3foo3barEv") == "foo::bar()"
    assert S.demangle("main") == "main"
    assert S.demangle("_Znot_valid") == "_Znot_valid"


# ---- live processes ------------------------------------------------------------------

@needs_gcc
@pytest.mark.parametrize("pie", ["-pie", "-no-pie"])
def test_child_process_addresses(tmp_path, child_of, pie):
    prog = build(tmp_path, extra=[pie, "-fPIE" if pie == "-pie" else "-fno-pie"])
    c = child_of(prog)
    helper, visible = c.addrs
    r = S.symbol_cache(c.pid)
    assert r.resolve(helper) == ("hidden_helper", 0, prog)
    assert r.resolve(visible + 1)[:2] == ("visible_function", 1)
    assert S.sym(helper, c.pid, show_module=True) == "hidden_helper [prog]"
    assert r.resolve_name(prog, "visible_function") == visible
    # The uprobe view: the file offset of the symbol maps back to the same place.
    path, offset, vaddr = S.symbol_address(prog, "hidden_helper")
    m = r.mapping(helper)
    assert helper - m.start + m.offset == offset


@needs_gcc
def test_vdso_resolves():
    r = S.symbol_cache(os.getpid())
    vdso = [m for m in r._maps if m.path == "[vdso]"]
    if not vdso:
        pytest.skip("no vdso")
    syms = r._symbols(vdso[0])
    assert syms is not None and len(syms) > 0
    name, off, module = r.resolve(vdso[0].start + syms._addrs[0])
    assert module == "[vdso]" and name


@needs_gcc
def test_deleted_binary_still_resolves(tmp_path, child_of):
    prog = build(tmp_path)
    c = child_of(prog)
    os.unlink(prog)
    name, off, module = S.symbol_cache(c.pid).resolve(c.addrs[0])
    assert (name, off, module) == ("hidden_helper", 0, prog)


@needs_gcc
def test_perf_map_for_anonymous_memory(child_of, tmp_path):
    c = child_of(build(tmp_path))
    anon = [m for m in procmaps.read_maps(c.pid) if not m.path]
    if not anon:
        pytest.skip("child has no anonymous mapping")
    path = perfmap.perf_map_path(c.pid)
    with open(path, "w") as f:
        f.write("%x 40 jitted_thing\n" % anon[0].start)
    try:
        assert S.sym(anon[0].start + 8, c.pid, show_offset=True, show_module=True) == \
            "jitted_thing+0x8 [%s]" % os.path.basename(path)
    finally:
        os.unlink(path)


@pytest.mark.skipif(not HAVE_GXX, reason="g++ not installed")
def test_cxx_demangled_in_stack(tmp_path, child_of):
    prog = build(tmp_path, source=CXX_PROG, name="cxxprog", cc="g++")
    c = child_of(prog)
    r = S.symbol_cache(c.pid)
    assert r.resolve(c.addrs[0])[0] == "shapes::Circle::area(int) const"
    assert r.resolve(c.addrs[0], demangle=False)[0] == "_ZNK6shapes6Circle4areaEi"


# ---- separate debug information -------------------------------------------------------

def _split_debug(prog, debug):
    subprocess.run(["objcopy", "--only-keep-debug", prog, debug], check=True)
    subprocess.run(["strip", "--strip-all", prog], check=True)


@pytest.mark.skipif(not (HAVE_GCC and HAVE_OBJCOPY), reason="needs gcc and binutils")
def test_debuglink(tmp_path, child_of):
    prog = build(tmp_path)
    debug = prog + ".debug"
    _split_debug(prog, debug)
    subprocess.run(["objcopy", "--add-gnu-debuglink=" + debug, prog], check=True)
    stripped = elfsyms.ElfSymbols(prog)
    assert stripped.debug_file == debug
    assert stripped.find("hidden_helper") is not None
    c = child_of(prog)
    assert S.symbol_cache(c.pid).resolve(c.addrs[0])[:2] == ("hidden_helper", 0)
    # Moved under .debug/ it is still found; with a wrong CRC it is not.
    os.mkdir(tmp_path / ".debug")
    os.rename(debug, tmp_path / ".debug" / os.path.basename(debug))
    assert elfsyms.ElfSymbols(prog).find("hidden_helper") is not None
    with open(tmp_path / ".debug" / os.path.basename(debug), "ab") as f:
        f.write(b"x")
    assert elfsyms.ElfSymbols(prog).find("hidden_helper") is None


@pytest.mark.skipif(not (HAVE_GCC and HAVE_OBJCOPY), reason="needs gcc and binutils")
def test_build_id_debug_dir(tmp_path, monkeypatch):
    prog = build(tmp_path, extra=["-Wl,--build-id"])
    debug = str(tmp_path / "elsewhere.debug")
    _split_debug(prog, debug)
    bid = elfsyms.ElfSymbols(prog).build_id
    assert bid
    ddir = tmp_path / "debugroot"
    (ddir / ".build-id" / bid[:2]).mkdir(parents=True)
    os.rename(debug, ddir / ".build-id" / bid[:2] / (bid[2:] + ".debug"))
    monkeypatch.setattr(debuginfo, "DEBUG_DIRS", [str(ddir)])
    syms = elfsyms.ElfSymbols(prog)
    assert syms.debug_file.startswith(str(ddir))
    assert syms.find("hidden_helper") is not None


@pytest.mark.skipif(not (HAVE_GCC and HAVE_OBJCOPY), reason="needs gcc and binutils")
def test_memo_outlives_the_process_it_was_read_through(tmp_path, monkeypatch):
    """A stripped file's table, read with its separate debug file through
    /proc/PID/root of a process that has exited since (a stack tool reads
    libc through whichever process it saw first), is read from its memo
    through another process's root, not built and written again, and names
    its debug file through that root; the memo says which file it is of
    without the exited process in the path (the cache sweep stats it)."""
    from pybcc import cache
    from pybcc.symbols import elfsyms_memo
    monkeypatch.setenv("PYBCC_CACHE_DIR", str(tmp_path / "cache"))
    cache._checked.clear()
    prog = build(tmp_path, extra=["-Wl,--build-id"])
    debug = str(tmp_path / "elsewhere.debug")
    _split_debug(prog, debug)
    ddir = tmp_path / "debugroot"
    bid = elfsyms.ElfSymbols(prog).build_id
    (ddir / ".build-id" / bid[:2]).mkdir(parents=True)
    debug = str(ddir / ".build-id" / bid[:2] / (bid[2:] + ".debug"))
    os.rename(tmp_path / "elsewhere.debug", debug)
    monkeypatch.setattr(debuginfo, "DEBUG_DIRS", [str(ddir)])
    memo = os.path.join(cache.private_dir("elfsyms"), elfsyms_memo.entry_name(os.stat(prog)))
    os.unlink(memo)     # (the table without the debug file, made to learn the build id)

    tables = []
    for _ in range(2):
        proc = subprocess.Popen(["sleep", "60"])
        try:
            tables.append((proc.pid, elfsyms.ElfSymbols(prog, f"/proc/{proc.pid}/root{prog}")))
        finally:
            proc.kill()
            proc.wait()
        if len(tables) == 1:
            written = os.stat(memo).st_ino
    (first_pid, first), (second_pid, second) = tables
    assert first.debug_file == f"/proc/{first_pid}/root{debug}"
    assert isinstance(second._names, elfsyms_memo.Names) and os.stat(memo).st_ino == written
    assert second.debug_file == f"/proc/{second_pid}/root{debug}"
    helper = elfsyms.ElfSymbols(debug).find("hidden_helper").vaddr     # (only there)
    assert second.lookup(helper) == ("hidden_helper", 0)
    assert elfsyms_memo.stored_file(memo) == prog


@pytest.mark.skipif(not (HAVE_GCC and HAVE_OBJCOPY), reason="needs gcc and binutils")
def test_minidebuginfo(tmp_path):
    prog = build(tmp_path)
    mini = str(tmp_path / "mini")
    subprocess.run(["objcopy", "--only-keep-debug", "--strip-debug", prog, mini], check=True)
    xz = tmp_path / "mini.xz"
    xz.write_bytes(lzma.compress(open(mini, "rb").read()))
    subprocess.run(["strip", "--strip-all", prog], check=True)
    subprocess.run(["objcopy", "--add-section", ".gnu_debugdata=%s" % xz, prog], check=True)
    assert elfsyms.ElfSymbols(prog).find("hidden_helper") is not None


# ---- containers ---------------------------------------------------------------------

def _copy_with_libs(prog, root):
    """Lay out prog and the shared libraries it needs under root, at their own paths."""
    out = subprocess.run(["ldd", prog], capture_output=True, text=True, check=True).stdout
    paths = [w for line in out.splitlines() for w in line.split() if w.startswith("/")]
    os.makedirs(root / "bin")
    shutil.copy(prog, root / "bin" / "prog")
    for p in paths:
        dest = root / p.lstrip("/")
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(p, dest)


needs_root_tools = pytest.mark.skipif(
    not (HAVE_GCC and shutil.which("chroot") and shutil.which("ldd") and shutil.which("unshare")
         and os.geteuid() == 0), reason="needs root, gcc, chroot, unshare, ldd")


def _check_foreign_process(proc, module):
    helper = int(proc.stdout.readline().split()[0], 16)
    r = S.symbol_cache(proc.pid)
    assert r.resolve(helper) == ("hidden_helper", 0, module)
    addr = r.resolve_name("c", "getpid")
    assert addr and r.resolve(addr)[:2] == ("getpid", 0)
    assert os.path.basename(r.resolve(addr)[2]).startswith("libc.so")
    return r


@needs_root_tools
def test_process_in_chroot(tmp_path):
    prog = build(tmp_path)
    root = tmp_path / "root"
    _copy_with_libs(prog, root)
    os.unlink(prog)  # only the copy inside the chroot exists
    proc = subprocess.Popen(["chroot", str(root), "/bin/prog"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        # Seen from outside a chroot, maps shows our own view of the paths.
        _check_foreign_process(proc, str(root / "bin" / "prog"))
        libc = S.find_library("c", proc.pid)
        assert libc.startswith(str(root)) and os.path.exists(libc)
    finally:
        proc.stdin.close()
        proc.wait(timeout=10)
        S.forget(proc.pid)


@needs_root_tools
def test_process_in_mount_namespace(tmp_path):
    # Like a container: the binary lives on a mount only the process's namespace has.
    prog = build(tmp_path)
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    script = f"mount -t tmpfs none {mnt} && cp {prog} {mnt}/prog && exec {mnt}/prog"
    proc = subprocess.Popen(["unshare", "-m", "--propagation", "private", "sh", "-c", script],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert not (mnt / "prog").exists()
        r = _check_foreign_process(proc, str(mnt / "prog"))
        assert S.find_library(str(mnt / "prog"), proc.pid) == f"/proc/{proc.pid}/root{mnt}/prog"
        assert r.resolve_name(str(mnt / "prog"), "visible_function")
    finally:
        proc.stdin.close()
        proc.wait(timeout=10)
        S.forget(proc.pid)


def test_bytes_names_accepted():
    assert S.find_library(b"c") == S.find_library("c")
    assert S.symbol_address(b"c", b"getpid") == S.symbol_address("c", "getpid")
    assert S.load_elf(S.find_library("c")).find(b"getpid") is not None


def test_gone_process_is_unknown():
    p = subprocess.Popen(["true"])
    p.wait()
    assert S.sym(0x401000, p.pid, show_module=True, show_offset=True) == "[unknown]"
    S.forget(p.pid)


def test_library_loaded_after_first_look(monkeypatch):
    # A dlopen after the resolver first read the maps: a miss rereads them.
    monkeypatch.setattr(resolver, "MAPS_REFRESH_INTERVAL", 0)
    code = ("import ctypes, sys; print('ready', flush=True); sys.stdin.readline(); "
            "l = ctypes.CDLL('libstdc++.so.6'); "
            "print(ctypes.cast(l.__cxa_demangle, ctypes.c_void_p).value, flush=True); sys.stdin.readline()")
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        r = S.symbol_cache(proc.pid)
        if any("libstdc++" in m.path for m in r._maps):
            pytest.skip("libstdc++ already loaded at start")
        proc.stdin.write("go\n")
        proc.stdin.flush()
        addr = int(proc.stdout.readline())
        assert r.resolve(addr, demangle=False)[:2] == ("__cxa_demangle", 0)
    finally:
        proc.stdin.close()
        proc.wait(timeout=10)
        S.forget(proc.pid)


def test_ifunc_resolves_to_implementation():
    path = S.find_library("c")
    sym = S.load_elf(path).find("memcpy")
    if sym is None or not sym.ifunc:
        pytest.skip("memcpy is not an IFUNC in this libc")
    _, offset, vaddr = S.symbol_address("c", "memcpy")
    assert offset != sym.offset
    name = S.load_elf(path).lookup(vaddr)[0]
    # The implementation this process's memcpy calls (e.g. __memmove_avx_unaligned_erms).
    libc = ctypes.CDLL(None)
    assert S.symbol_cache(os.getpid()).resolve(ctypes.cast(libc.memcpy, ctypes.c_void_p).value)[0] == name
    assert S.symbol_address("c", "memcpy", resolve_ifunc=False)[1] == sym.offset


def test_pattern_matching():
    syms = S.load_elf(S.find_library("c"))
    found = syms.match(r"getpp?id$")
    assert {s.name for s in found} >= {"getpid", "getppid"}
    if _kallsyms_readable():
        names = S.kernel_symbols().functions(r"vfs_rea")
        assert names and all(n.startswith("vfs_rea") for n in names)


def test_elf_address_table_is_mapped_from_its_memo_on_the_next_load():
    """The second ElfSymbols of a file maps the table the first wrote
    (symbols/elfsyms_memo.py) and answers every lookup the same; a file
    changed in place gets a new table."""
    from pybcc.symbols import elfsyms_memo
    libc = libpath.find_library("c")
    built = elfsyms.ElfSymbols(libc)
    mapped = elfsyms.ElfSymbols(libc)
    assert isinstance(mapped._names, elfsyms_memo.Names) and len(mapped) == len(built) > 100
    assert (mapped.build_id, mapped.loads, mapped.elf_type) == (built.build_id, built.loads, built.elf_type)
    for i in range(0, len(built), max(1, len(built) // 200)):
        addr = built._addrs[i]
        assert mapped.lookup(addr + 1) == built.lookup(addr + 1)
    assert mapped.find("getpid") == built.find("getpid")


@pytest.mark.skipif(not HAVE_GCC, reason="needs gcc")
def test_elf_memo_follows_the_file(tmp_path):
    from pybcc.symbols import elfsyms_memo
    prog = build(tmp_path)
    first = elfsyms.ElfSymbols(prog)
    assert "main" in first._names and isinstance(first._names, list)
    assert isinstance(elfsyms.ElfSymbols(prog)._names, elfsyms_memo.Names)
    os.utime(prog, ns=(1, 1))       # a rebuilt file: a new identity, a new table
    again = elfsyms.ElfSymbols(prog)
    assert isinstance(again._names, list) and again._names == first._names


def test_find_by_name_agrees_with_the_whole_table():
    """elfsyms.find reads only the records of one name (and, for an IFUNC
    check, those at one address), of libc and of its debug file when there
    is one: each answer must be the whole table's, weak aliases, versioned
    names and IFUNCs (memcpy, strlen, gettimeofday) included."""
    path = S.find_library("c")
    names = ["malloc", "free", "calloc", "realloc", "mmap", "munmap", "posix_memalign",
             "valloc", "memalign", "pvalloc", "aligned_alloc", "pthread_mutex_lock",
             "pthread_mutex_unlock", "getpid", "memcpy", "strlen", "gettimeofday", "time",
             "open64", "__libc_malloc", "memcpy@GLIBC_2.2.5", "no_such_function_here"]
    whole = elfsyms.ElfSymbols(path)
    for name in names:
        assert elfsyms._find(path, name, None, None) == whole.find(name), name
    assert whole.find("memcpy").ifunc and whole.find("malloc") and not whole.find("malloc").ifunc


def test_address_table_keeps_what_the_entries_give():
    """The address table's one-loop collection (_ByAddress.collect) keeps,
    per address, what the entries _collect lists would keep one by one."""
    from pybcc.symbols.elf import ElfFile
    for path in (S.find_library("c"), sys.executable):
        with ElfFile.open(path) as elf:
            entries, slow_ifuncs = [], set()
            elfsyms._collect(elf, entries, slow_ifuncs)
            slow = elfsyms._ByAddress()
            for entry in entries:
                slow.append(entry)
            fast, fast_ifuncs = elfsyms._ByAddress(), set()
            elfsyms._collect(elf, fast, fast_ifuncs)
        assert fast.by_addr == slow.by_addr and fast_ifuncs == slow_ifuncs, path
        assert len(fast.by_addr) > 100 or path == sys.executable
