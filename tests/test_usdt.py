"""USDT: note parsing, argument specs, and probes read for real (root).

The traced program is built here with gcc -O2 and <sys/sdt.h>
(systemtap-sdt-dev), so its arguments land in registers, on the stack, in
memory behind a pointer, as constants and as a %rip-relative global.
"""
import os
import shutil
import struct
import subprocess
import time

import pytest

from pybcc.errors import AttachError
from pybcc.usdt import args as A
from pybcc.usdt import attach_usdt, list_probes, notes, spec

SYS_PYTHON = "/usr/bin/python3.11"

TARGET_C = r"""
#define _SDT_HAS_SEMAPHORES 1
#include <sys/sdt.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

struct point { int x; long y; char tag[8]; };
unsigned short test_probe_semaphore __attribute__((section(".probes")));
unsigned short test_nosem_semaphore __attribute__((section(".probes")));
long global_counter = 77;

__attribute__((noinline)) void work(int i, struct point *p, const char *s)
{
    long neg = -1000000000000L - i;
    volatile struct point loc = *p;      /* a stack struct: its member is read from memory */
    loc.y += i;
    if (__builtin_expect(*(volatile unsigned short *)&test_probe_semaphore, 0))
        STAP_PROBE6(test, probe, i, neg, s, loc.y, (char)-5, global_counter);
    DTRACE_PROBE2(test, nosem, i * 3, p->x);
}

int main(int argc, char **argv)
{
    struct point p = {7, 42, "tag"};
    for (int i = 0; ; i++) {
        work(i, &p, "hello usdt");
        /* the program says itself whether the probe is enabled */
        printf("%d %d\n", i, *(volatile unsigned short *)&test_probe_semaphore);
        fflush(stdout);
        global_counter++;
        usleep(5000);
    }
}
"""

BPF_C = r"""
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/usdt.bpf.h>

struct event { long a[6]; long cnt; long cookie; long hits; char s[16]; };
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 2);
    __type(key, int);
    __type(value, struct event);
} out SEC(".maps");

SEC("usdt")
int BPF_USDT(on_probe, int i, long neg, const char *s, long y, char c, long g)
{
    int k = 0;
    struct event *e = bpf_map_lookup_elem(&out, &k);
    if (!e)
        return 0;
    e->a[0] = i; e->a[1] = neg; e->a[2] = (long)s; e->a[3] = y; e->a[4] = c; e->a[5] = g;
    bpf_probe_read_user_str(e->s, sizeof(e->s), s);
    e->cnt = bpf_usdt_arg_cnt(ctx);
    e->cookie = bpf_usdt_cookie(ctx);
    e->hits++;
    return 0;
}

SEC("usdt/%(path)s:test:nosem")
int BPF_USDT(on_nosem, int triple, int x)
{
    int k = 1;
    struct event *e = bpf_map_lookup_elem(&out, &k);
    if (!e)
        return 0;
    e->a[0] = triple; e->a[1] = x;
    e->cnt = bpf_usdt_arg_cnt(ctx);
    e->hits++;
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
"""

PY_BPF_C = r"""
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/usdt.bpf.h>

struct name { char fn[48]; };
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 1024);
    __type(key, struct name);
    __type(value, long);
} calls SEC(".maps");

SEC("usdt")
int BPF_USDT(on_entry, const char *file, const char *fn, int line)
{
    struct name n = {};
    long one = 1, *v;
    bpf_probe_read_user_str(n.fn, sizeof(n.fn), fn);
    v = bpf_map_lookup_elem(&calls, &n);
    if (v)
        __sync_fetch_and_add(v, 1);
    else
        bpf_map_update_elem(&calls, &n, &one, BPF_ANY);
    return 0;
}

SEC("usdt")
int on_line(struct pt_regs *ctx)
{
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
"""

# The child python: defines a distinctively named function and calls it.
PY_CHILD = """
import sys, time
def pybcc_usdt_distinctive_fn():
    return 1
print("ready", flush=True)
while True:
    pybcc_usdt_distinctive_fn()
    time.sleep(0.005)
"""


def need_root():
    if os.geteuid() != 0:
        pytest.skip("needs root to load BPF programs")


# --- argument strings (no root) --------------------------------------------------


def test_parse_x86_args():
    got = A.parse_args("-4@%edi -8@%rax 8@%rdx -8@-32(%rsp) -1@$-5 -8@global_counter(%rip) "
                       "4@8(%rax,%rdx,8) 2@0x10(%r8) 8@g+8(%rip) 1@(%rsi)")
    assert [(a.kind, a.reg, a.off, a.size, a.signed) for a in got] == [
        (A.REG, "di", 0, 4, True), (A.REG, "ax", 0, 8, True), (A.REG, "dx", 0, 8, False),
        (A.DEREF, "sp", -32, 8, True), (A.CONST, None, -5, 1, True),
        (A.DEREF, "ip", 0, 8, True), (A.DEREF_IDX, "ax", 8, 4, False),
        (A.DEREF, "r8", 16, 2, False), (A.DEREF, "ip", 8, 8, False), (A.DEREF, "si", 0, 1, False)]
    assert got[5].symbol == "global_counter" and got[8].symbol == "g"
    assert (got[6].index, got[6].scale) == ("dx", 8)


def test_parse_arm64_args():
    got = A.parse_args("-4@x0 8@[x1] -4@[sp, 16] 8@[x2,-8] 4@5 4@w3", A.EM_AARCH64)
    assert [(a.kind, a.reg, a.off) for a in got] == [
        (A.REG, "regs[0]", 0), (A.DEREF, "regs[1]", 0), (A.DEREF, "sp", 16),
        (A.DEREF, "regs[2]", -8), (A.CONST, None, 5), (A.REG, "regs[3]", 0)]


@pytest.mark.parametrize("bad", ["8f@%xmm0", "3@%rax", "4@%ah", "4@%xmm1", "4@foo(%rbx)"])
def test_parse_rejects(bad):
    with pytest.raises(AttachError):
        A.parse_arg(bad)


def test_spec_layout():
    offs = spec.pt_regs_offsets()
    assert offs["di"] != offs["si"] and "ip" in offs and "sp" in offs
    data = spec.encode_spec(A.parse_args("-4@%edi 8@$3"), cookie=-2)
    assert len(data) == spec.SPEC_SIZE == 304
    off, kind, reg_off, _, _, size, signed, shift = spec.ARG.unpack_from(data, 0)
    assert (kind, reg_off, size, signed, shift) == (A.REG, offs["di"], 4, 1, 32)
    assert spec.ARG.unpack_from(data, 24)[:2] == (3, A.CONST)
    assert spec.TAIL.unpack_from(data, 24 * 12) == (-2, 2, 0)
    d = spec.describe(A.parse_arg("-8@-32(%rsp)"))
    assert d == {"type": "reg_deref", "size": 8, "signed": True, "reg": "sp",
                 "reg_offset": offs["sp"], "offset": -32}


# --- notes (no root) -------------------------------------------------------------


@pytest.fixture(scope="module")
def target(tmp_path_factory):
    gcc = shutil.which("gcc") or shutil.which("cc")
    if gcc is None:
        pytest.skip("no C compiler to build the USDT target")
    d = tmp_path_factory.mktemp("usdt")
    src = d / "target.c"
    src.write_text(TARGET_C)
    exe = d / "usdt_target"
    r = subprocess.run([gcc, "-O2", "-o", str(exe), str(src)], capture_output=True, text=True)
    if r.returncode != 0:
        if "sys/sdt.h" in r.stderr:
            pytest.skip("sys/sdt.h missing (apt-get install systemtap-sdt-dev)")
        pytest.fail(r.stderr)
    return str(exe)


def _section(path, name):
    from pybcc.symbols.elf import ElfFile
    with ElfFile.open(path) as elf:
        s = elf.section(name)
        return s.addr, s.offset, s.size


def test_notes_of_binary(target):
    probes = {p.name: p for p in list_probes(target)}
    assert set(probes) == {"probe", "nosem"}
    p = probes["probe"]
    assert p.provider == "test" and p.bin_path == target and p.num_locations == 1
    assert p.num_arguments == 6
    loc = p.locations[0]
    assert len(A.parse_args(loc.args)) == 6 and "global_counter(%rip)" in loc.args
    addr, off, size = _section(target, ".probes")
    assert addr <= p.semaphore < addr + size
    assert p.semaphore_offset == p.semaphore - addr + off
    # the uprobe offset holds the probe's nop
    with open(target, "rb") as f:
        f.seek(loc.offset)
        assert f.read(1) == b"\x90"


def test_notes_prelink_adjustment(target, tmp_path):
    """A note whose recorded .stapsdt.base differs from the section's address
    (a prelinked file) has its pc and semaphore moved by the difference."""
    data = bytearray(open(target, "rb").read())
    base_addr = _section(target, ".stapsdt.base")[0]
    _, note_off, note_size = _section(target, ".note.stapsdt")
    orig = {loc.name: loc for loc in notes.read_probes(target)}
    pos = note_off
    while pos < note_off + note_size:
        namesz, descsz, _ = struct.unpack_from("<III", data, pos)
        desc = pos + 12 + ((namesz + 3) & ~3)
        assert struct.unpack_from("<Q", data, desc + 8)[0] == base_addr
        struct.pack_into("<Q", data, desc + 8, base_addr + 0x10)   # as if moved by -0x10
        pos = desc + ((descsz + 3) & ~3)
    moved = tmp_path / "moved"
    moved.write_bytes(bytes(data))
    for loc in notes.read_probes(str(moved)):
        assert loc.pc == orig[loc.name].pc - 0x10
        assert loc.semaphore == orig[loc.name].semaphore - 0x10


def test_no_probes_message(target):
    with pytest.raises(AttachError, match="test:probe"):
        attach_usdt(None, 0, target, "test", "nope")


# --- attach for real (root) ------------------------------------------------------


@pytest.fixture
def child(target):
    p = subprocess.Popen([target], stdout=subprocess.PIPE, text=True)
    p.stdout.readline()
    yield p
    p.kill()
    p.wait()


def _sema_is(proc, want, lines=2000):
    """Whether the child reports test_probe_semaphore == want (it prints it
    every 5 ms; older lines wait in the pipe, so read until it does)."""
    for _ in range(lines):
        if int(proc.stdout.readline().split()[1]) == want:
            return True
    return False


@pytest.fixture(scope="module")
def bpf_obj(target):
    from pybcc import compiler
    return compiler.compile(BPF_C % {"path": target}, filename="usdt_test.bpf.c")


def _wait_hits(m, key, n=3, timeout=5.0):
    end = time.time() + timeout
    while time.time() < end:
        v = m[key]
        if v.hits >= n:
            return v
        time.sleep(0.02)
    return m[key]


def test_attach_reads_arguments(target, bpf_obj, child):
    need_root()
    from pybcc import loader
    with loader.load(bpf_obj, programs=["on_probe"]) as coll:
        assert _sema_is(child, 0)
        link = attach_usdt(coll, coll.programs["on_probe"], target, "test", "probe",
                           cookie=0xC00C1E)
        try:
            assert _sema_is(child, 1)      # the kernel counted the semaphore up
            e = _wait_hits(coll.maps["out"], 0)
            assert e.hits >= 3
            i = e.a[0]
            assert e.a[1] == -1000000000000 - i
            assert e.s == "hello usdt" and e.a[2] != 0
            assert e.a[3] == 42 + i                # stack struct member
            assert e.a[4] == -5                    # signed char constant
            assert e.a[5] == 77 + i                # %rip-relative global
            assert e.cnt == 6 and e.cookie == 0xC00C1E
        finally:
            link.close()
        assert _sema_is(child, 0)        # and down again after detach


def test_attach_by_section_and_pid(target, bpf_obj, child):
    need_root()
    from pybcc import loader
    with loader.load(bpf_obj, programs=["on_nosem"]) as coll:
        prog = coll.programs["on_nosem"]
        with prog.attach(pid=child.pid) as link:   # usdt/PATH:test:nosem
            assert "nosem" in link.description
            e = _wait_hits(coll.maps["out"], 1)
            assert e.hits >= 3
            assert e.a[0] % 3 == 0 and e.a[1] == 7 and e.cnt == 2


def test_attach_by_pid_target(target, bpf_obj, child):
    need_root()
    from pybcc import loader
    with loader.load(bpf_obj, programs=["on_probe"]) as coll:
        with attach_usdt(coll, "on_probe", child.pid, "test", "probe") as link:
            assert link.locations and link.locations[0].name == "probe"
            e = _wait_hits(coll.maps["out"], 0)
            assert e.a[3] == 42 + e.a[0] and e.cookie == 0


def test_list_probes_of_pid(target, child):
    need_root()
    names = {(p.provider, p.name) for p in list_probes(child.pid)}
    assert ("test", "probe") in names and ("test", "nosem") in names


def _sys_python():
    if not os.path.exists(SYS_PYTHON):
        pytest.skip(f"{SYS_PYTHON} not installed")
    if not any(p.name == "function__entry" for p in list_probes(SYS_PYTHON)):
        pytest.skip(f"{SYS_PYTHON} has no USDT probes")


@pytest.fixture
def py_child():
    _sys_python()
    p = subprocess.Popen([SYS_PYTHON, "-c", PY_CHILD], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "ready"
    yield p
    p.kill()
    p.wait()


def test_python_function_entry(py_child):
    """python:function__entry of the distribution's python3.11: arg2 is the
    function's name. CPython 3.11 runs its function-entry probe only on its
    tracing path, which it takes while python:line is enabled: attach both."""
    need_root()
    from pybcc import compiler, loader
    obj = compiler.compile(PY_BPF_C, filename="usdt_python.bpf.c")
    with loader.load(obj) as coll:
        with attach_usdt(coll, coll.programs["on_entry"], SYS_PYTHON, "python",
                         "function__entry", pid=py_child.pid), \
                attach_usdt(coll, coll.programs["on_line"], py_child.pid, "python", "line"):
            end, seen = time.time() + 5, {}
            while time.time() < end:
                seen = {k.fn: v for k, v in coll.maps["calls"].items()}
                if seen.get("pybcc_usdt_distinctive_fn", 0) >= 3:
                    break
                time.sleep(0.05)
        assert seen.get("pybcc_usdt_distinctive_fn", 0) >= 3, seen


# --- bcc's USDT class --------------------------------------------------------------

BCC_PROG = r"""
struct val_t { long i; long neg; long y; long g; long x; char s[16]; };
BPF_ARRAY(vals, struct val_t, 1);
int on_probe(struct pt_regs *ctx) {
    struct val_t v = {};
    int zero = 0;
    bpf_usdt_readarg(1, ctx, &v.i);
    bpf_usdt_readarg(2, ctx, &v.neg);
    bpf_usdt_readarg_p(3, ctx, &v.s, sizeof(v.s));
    bpf_usdt_readarg(4, ctx, &v.y);
    bpf_usdt_readarg(6, ctx, &v.g);
    vals.update(&zero, &v);
    return 0;
}
"""


def _bcc():
    try:
        from pybcc.bcc import BPF, USDT
    except ImportError as e:
        pytest.skip(f"pybcc.bcc not importable: {e}")
    return BPF, USDT


def test_bcc_get_text_compiles(target):
    _, USDT = _bcc()
    u = USDT(path=target)
    u.enable_probe("test:probe", "on_probe")
    assert "bpf_usdt_readarg" in u.get_text()
    assert u.get_probe_arg_ctype("probe", 0) == "int32_t"
    assert u.get_probe_arg_ctype("test:probe", 2) == "uint64_t"
    probes = {p.short_name(): p for p in u.enumerate_probes()}
    assert probes["test:probe"].num_locations == 1 and probes["test:probe"].semaphore
    assert probes["test:probe"].get_location(0).num_arguments == 6
    assert u.enumerate_active_probes()[0][1] == b"on_probe"
    assert probes["test:probe"].bin_path == target.encode()      # bytes, as in bcc


def test_bcc_enable_missing_probe(target):
    _, USDT = _bcc()
    from pybcc.bcc.usdt import USDTException
    with pytest.raises(USDTException, match="nope"):
        USDT(path=target).enable_probe("nope", "fn")


def test_bcc_usdt_end_to_end(target, child):
    need_root()
    BPF, USDT = _bcc()
    u = USDT(pid=child.pid)
    u.enable_probe("probe", "on_probe")
    assert _sema_is(child, 1)          # enabled: counted up at once, as bcc does
    b = BPF(text=BCC_PROG, usdt_contexts=[u])
    try:
        assert _sema_is(child, 1)      # attached: the kernel's count only
        end = time.time() + 5
        while time.time() < end:
            v = b["vals"][0]
            if v.s:
                break
            time.sleep(0.02)
        assert v.s == b"hello usdt" or v.s == "hello usdt"
        assert v.neg == -1000000000000 - v.i and v.y == 42 + v.i and v.g == 77 + v.i
    finally:
        b.cleanup()
    assert _sema_is(child, 0)


def test_bcc_two_contexts(target, child):
    """One program for several processes (dbslower, dbstat): each context's
    readers are the same text, compiled once."""
    need_root()
    BPF, USDT = _bcc()
    other = subprocess.Popen([target], stdout=subprocess.PIPE, text=True)
    try:
        other.stdout.readline()
        us = [USDT(pid=p.pid) for p in (child, other)]
        for u in us:
            u.enable_probe("probe", "on_probe")
        b = BPF(text=BCC_PROG, usdt_contexts=us)
        try:
            assert _sema_is(child, 1) and _sema_is(other, 1)
        finally:
            b.cleanup()
    finally:
        other.kill()
        other.wait()


def test_bcc_enable_probe_counts_semaphore(target, child):
    """ustat's way: enable probes, attach the uprobes by hand; the semaphore
    is set from enable_probe until the USDT object goes."""
    need_root()
    _, USDT = _bcc()
    u = USDT(pid=child.pid)
    u.enable_probe("test:probe", "on_probe")
    assert _sema_is(child, 1)
    del u
    import gc
    gc.collect()
    assert _sema_is(child, 0)


def test_bcc_python_function_entry(py_child):
    need_root()
    BPF, USDT = _bcc()
    prog = r"""
    struct key_t { char fn[48]; };
    BPF_HASH(calls, struct key_t, u64);
    int on_entry(struct pt_regs *ctx) {
        struct key_t k = {};
        u64 fn = 0;
        bpf_usdt_readarg(2, ctx, &fn);
        bpf_probe_read_user_str(&k.fn, sizeof(k.fn), (void *)fn);
        calls.increment(k);
        return 0;
    }
    int on_line(struct pt_regs *ctx) { return 0; }
    """
    u = USDT(pid=py_child.pid)
    u.enable_probe("python:function__entry", "on_entry")
    u.enable_probe("line", "on_line")       # CPython 3.11: see test_python_function_entry
    b = BPF(text=prog, usdt_contexts=[u])
    try:
        end, names = time.time() + 5, {}
        while time.time() < end:
            names = {bytes(k.fn) if not isinstance(k.fn, str) else k.fn.encode(): v.value
                     for k, v in b["calls"].items()}
            if any(b"pybcc_usdt_distinctive_fn" in n for n in names):
                break
            time.sleep(0.05)
        assert any(b"pybcc_usdt_distinctive_fn" in n for n in names), names
    finally:
        b.cleanup()


def test_bcc_with_libbpf_style_text(target, child):
    """BPF(text=...) of plain libbpf C (BPF_USDT) with a USDT context."""
    need_root()
    BPF, USDT = _bcc()
    prog = r"""
    #include "vmlinux.h"
    #include <bpf/bpf_helpers.h>
    #include <bpf/usdt.bpf.h>
    long seen_y = 0, seen_i = 0;
    SEC("usdt")
    int BPF_USDT(on_probe, int i, long neg, const char *s, long y)
    {
        seen_i = i;
        seen_y = y;
        return 0;
    }
    char LICENSE[] SEC("license") = "GPL";
    """
    u = USDT(path=target)
    u.enable_probe("test:probe", "on_probe")
    b = BPF(text=prog, usdt_contexts=[u])
    try:
        bss = b._coll.maps[".bss"]
        end = time.time() + 5
        while time.time() < end:
            v = bss[0]
            if v.seen_y:
                break
            time.sleep(0.02)
        assert v.seen_y == 42 + v.seen_i
    finally:
        b.cleanup()


def test_bcc_errors_name_user_lines(target):
    """get_text() is prepended to the program; errors still give the user's line."""
    need_root()
    BPF, USDT = _bcc()
    from pybcc.errors import CompileError
    u = USDT(path=target)
    u.enable_probe("test:probe", "on_probe")
    with pytest.raises(CompileError) as ei:
        BPF(text="int on_probe(struct pt_regs *ctx) {\n  long v;\n  v = v +;\n"
                 "  return 0;\n}\n", usdt_contexts=[u])
    assert ":3:" in str(ei.value) or ei.value.line == 3, str(ei.value)[:500]
