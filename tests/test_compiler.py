"""Compiler layer: discovery, flags, headers, object cache, error messages.

Needs a BPF-capable clang (system clang or the ziglang wheel); objects are
checked as ELF, and loaded with bpftool (a test oracle) when it and root are
available.
"""
import os
import re
import shutil
import subprocess
import sys
import time

import pytest

from pybcc.compiler import build, discover
from pybcc.compiler import compile as bpf_compile
from pybcc.errors import CompileError

HERE = os.path.dirname(os.path.abspath(__file__))
# The session's cache root, set by conftest.py before this module was imported.
SESSION_CACHE = os.environ["PYBCC_CACHE_DIR"]
INCLUDE = build.include_dir()

SMALL = """\
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, u64);
} counter SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getpid")
int count(void *ctx)
{
	u32 key = 0;
	u64 *v = bpf_map_lookup_elem(&counter, &key);
	if (v)
		__sync_fetch_and_add(v, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
"""

# One program touching every macro family of the libbpf-style headers.
MACROS = r"""
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, u32);
	__type(value, u64);
} counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

const volatile int target_pid = 0;
extern int LINUX_KERNEL_VERSION __kconfig;
extern const void bpf_prog_active __ksym __weak;

SEC("tp_btf/sched_switch")
int BPF_PROG(on_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	u32 ppid = BPF_CORE_READ(next, real_parent, tgid);
	char comm[16];
	unsigned long long bits, bits2;
	u64 *v;

	BPF_CORE_READ_STR_INTO(&comm, prev, comm);
	BPF_CORE_READ_INTO(&ppid, prev, real_parent, tgid);
	v = bpf_map_lookup_elem(&counts, &ppid);
	if (v)
		__sync_fetch_and_add(v, 1);
	if (bpf_core_field_exists(prev->pid) && bpf_core_type_exists(struct task_struct) &&
	    bpf_core_field_size(struct task_struct, pid) == 4)
		bpf_printk("pid field at %d", bpf_core_field_offset(prev->pid));
	bpf_printk("five %d %d %d %d %d", 1, 2, 3, 4, (int)bpf_core_type_size(struct task_struct));
	if (bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_loop))
		bpf_printk("loop is %d", bpf_core_enum_value(enum bpf_func_id, BPF_FUNC_loop));
	if (bpf_ksym_exists(&bpf_prog_active))
		bpf_printk("ksym found");
	bits = BPF_CORE_READ_BITFIELD_PROBED(prev, sched_reset_on_fork);
	bits2 = BPF_CORE_READ_BITFIELD(prev, sched_reset_on_fork);
	bpf_printk("%d %d %llu %llu", bpf_core_type_id_kernel(struct task_struct),
		   bpf_core_type_id_local(struct task_struct), bits, bits2);
	unsigned short port = bpf_htons(80);
	unsigned int addr = bpf_ntohl(ppid);
	barrier_var(port);
	if (likely(port) && unlikely(addr == 1))
		return bpf_core_type_matches(struct task_struct) + target_pid + LINUX_KERNEL_VERSION;
	return bpf_ntohs(port) + (int)bpf_be64_to_cpu(addr) + (int)bpf_htonl(7);
}

SEC("kprobe/do_sys_openat2")
int BPF_KPROBE(kp, int dfd, const char *filename, struct open_how *how,
	       long a4, long a5, long a6, long a7, long a8)
{
	u64 ip = 0;
	BPF_KPROBE_READ_RET_IP(ip, ctx);
	return dfd + a8 + ip + PT_REGS_PARM1_CORE(ctx) + PT_REGS_PARM2(ctx) + PT_REGS_RC(ctx)
	       + PT_REGS_SP(ctx) + PT_REGS_IP(ctx) + PT_REGS_FP(ctx) + PT_REGS_RET(ctx);
}

SEC("kretprobe/do_sys_openat2")
int BPF_KRETPROBE(krp, long ret)
{
	return ret;
}

SEC("uprobe")
int BPF_UPROBE(up, void *p, int n)
{
	return n;
}

SEC("uretprobe")
int BPF_URETPROBE(urp)
{
	return 0;
}

SEC("ksyscall/openat")
int BPF_KSYSCALL(ks, int dfd, const char *pathname, int flags, unsigned short mode)
{
	char buf[64];
	bpf_probe_read_user_str(buf, sizeof(buf), pathname);
	return flags + PT_REGS_PARM4_CORE_SYSCALL(PT_REGS_SYSCALL_REGS(ctx));
}

SEC("raw_tp/sys_enter")
int BPF_PROG(rt)
{
	struct task_struct *t = bpf_get_current_task_btf();
	u32 *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (e) {
		*e = BPF_PROBE_READ(t, mm, exe_file, f_path.dentry, d_name.len);
		bpf_ringbuf_submit(e, 0);
	}
	return BPF_CORE_READ(t, mm, exe_file, f_path.dentry, d_sb, s_bdev, bd_dev);
}

char LICENSE[] SEC("license") = "GPL";
"""


@pytest.fixture(scope="module", autouse=True)
def private_cache(tmp_path_factory):
    """The tests use their own cache root, not /var/cache/pybcc."""
    old = os.environ.get("PYBCC_CACHE_DIR")
    os.environ["PYBCC_CACHE_DIR"] = str(tmp_path_factory.mktemp("pybcc-cache"))
    discover._memo.clear()
    yield os.environ["PYBCC_CACHE_DIR"]
    if old is None:
        del os.environ["PYBCC_CACHE_DIR"]
    else:
        os.environ["PYBCC_CACHE_DIR"] = old
    discover._memo.clear()


@pytest.fixture(scope="module")
def vmlinux_dir(tmp_path_factory):
    """A directory with vmlinux.h: pybcc's generator, else bpftool, else skip."""
    try:
        from pybcc.btf.cgen import vmlinux_header
        # The session's cache (conftest.py): generating the header takes seconds.
        return vmlinux_header(cache_dir=os.path.join(SESSION_CACHE, "vmlinux"))
    except Exception:
        pass
    d = tmp_path_factory.mktemp("vmlinux")
    if shutil.which("bpftool") and os.path.exists("/sys/kernel/btf/vmlinux"):
        with open(d / "vmlinux.h", "w") as f:
            subprocess.run(["bpftool", "btf", "dump", "file", "/sys/kernel/btf/vmlinux",
                            "format", "c"], stdout=f, check=True)
        return str(d)
    pytest.skip("no vmlinux.h: needs /sys/kernel/btf/vmlinux and pybcc.btf.cgen or bpftool")


@pytest.fixture(scope="module")
def clang():
    comp = discover.system_clang()
    if comp is None:
        pytest.skip("no system clang that targets BPF")
    return comp


@pytest.fixture(scope="module")
def zig():
    comp = discover.ziglang_compiler()
    if comp is None:
        pytest.skip("ziglang is not installed (pip install 'pybcc[compiler]')")
    return comp


def elf_sections(path):
    from elftools.elf.elffile import ELFFile
    with open(path, "rb") as f:
        elf = ELFFile(f)
        return elf["e_machine"], [s.name for s in elf.iter_sections()]


def bpftool_load(obj):
    """Load every program of obj with bpftool (libbpf), if we can."""
    if os.geteuid() != 0 or not shutil.which("bpftool"):
        pytest.skip("loading needs root and bpftool")
    pin = f"/sys/fs/bpf/pybcc-test-{os.getpid()}"
    try:
        r = subprocess.run(["bpftool", "prog", "loadall", obj, pin],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr[-3000:]
        return sorted(os.listdir(pin))
    finally:
        shutil.rmtree(pin, ignore_errors=True)


def check_object(path):
    machine, sections = elf_sections(path)
    assert machine == "EM_BPF"
    assert ".BTF" in sections and ".BTF.ext" in sections
    with open(path, "rb") as f:
        head = f.read(20)
    assert int.from_bytes(head[18:20], "little") == 247


# --- compiling -----------------------------------------------------------------

def test_compile_produces_bpf_object_with_btf(clang, vmlinux_dir):
    obj = bpf_compile(SMALL, vmlinux=vmlinux_dir, compiler=clang, filename="small.bpf.c")
    check_object(obj)
    assert os.path.dirname(obj) == os.path.join(os.environ["PYBCC_CACHE_DIR"], "objects")
    assert (os.stat(os.path.dirname(obj)).st_mode & 0o777) == 0o700


def test_default_vmlinux_and_compiler(vmlinux_dir):
    # vmlinux=True asks pybcc.btf.cgen for the running kernel's header.
    pytest.importorskip("pybcc.btf.cgen")
    obj = bpf_compile(SMALL)
    check_object(obj)


def test_small_program_loads(clang, vmlinux_dir):
    obj = bpf_compile(SMALL, vmlinux=vmlinux_dir, compiler=clang)
    assert bpftool_load(obj) == ["count"]


def test_ziglang_compiles_loadable_object(zig, vmlinux_dir):
    obj = bpf_compile(SMALL, vmlinux=vmlinux_dir, compiler=zig)
    check_object(obj)
    assert bpftool_load(obj) == ["count"]


@pytest.mark.parametrize("which", ["clang", "zig"])
def test_every_macro_family(which, request, vmlinux_dir):
    comp = request.getfixturevalue(which)
    obj = bpf_compile(MACROS, vmlinux=vmlinux_dir, compiler=comp, filename="macros.bpf.c")
    check_object(obj)
    assert bpftool_load(obj) == ["kp", "krp", "ks", "on_switch", "rt", "up", "urp"]


def test_pt_regs_macros_for_arm64(clang):
    # No arm64 vmlinux.h here: declare just the registers the macros use.
    src = r"""
struct user_pt_regs { unsigned long long regs[31], sp, pc, pstate; };
struct pt_regs { union { struct user_pt_regs user_regs;
                         struct { unsigned long long regs[31], sp, pc, pstate; }; };
                 unsigned long long orig_x0; } __attribute__((preserve_access_index));
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
SEC("kprobe/x")
int BPF_KPROBE(k, long a, long b, long c, long d, long e, long f, long g, long h)
{ return a + h + PT_REGS_RC(ctx) + PT_REGS_SP(ctx) + PT_REGS_IP(ctx) + PT_REGS_FP(ctx); }
SEC("ksyscall/y")
int BPF_KSYSCALL(s, long a, long b) { return a + b; }
char LICENSE[] SEC("license") = "GPL";
"""
    obj = bpf_compile(src, ["-U__TARGET_ARCH_x86", "-D__TARGET_ARCH_arm64"],
                      vmlinux=False, compiler=clang)
    check_object(obj)


def test_path_source_with_local_header(clang, vmlinux_dir, tmp_path, monkeypatch):
    (tmp_path / "local.h").write_text("#define ANSWER 42\n")
    prog = tmp_path / "prog.bpf.c"
    prog.write_text('#include "local.h"\nint answer(void *ctx) { return ANSWER; }\n')
    calls = []
    real = build._exec
    monkeypatch.setattr(build, "_exec", lambda *a: calls.append(1) or real(*a))
    obj1 = bpf_compile(prog, vmlinux=False, compiler=clang)
    assert bpf_compile(str(prog), vmlinux=False, compiler=clang) == obj1
    assert len(calls) == 1
    # A changed header is a miss even though the source text is the same.
    (tmp_path / "local.h").write_text("#define ANSWER 43\n")
    os.utime(tmp_path / "local.h", ns=(1, 1))
    bpf_compile(prog, vmlinux=False, compiler=clang)
    assert len(calls) == 2


def test_explicit_output(clang, tmp_path):
    out = tmp_path / "x.o"
    assert bpf_compile("int f(void *c) { return 0; }\n", vmlinux=False, compiler=clang,
                       output=out) == str(out)
    check_object(str(out))


# --- the cache -------------------------------------------------------------------

def test_cache_hit_is_fast_and_runs_no_compiler(clang, vmlinux_dir, monkeypatch):
    obj = bpf_compile(SMALL, vmlinux=vmlinux_dir, compiler=clang)

    def no_compiler(*a):
        raise AssertionError("compiler ran on a cache hit")
    monkeypatch.setattr(build, "_exec", no_compiler)
    monkeypatch.setattr(subprocess, "run", no_compiler)
    times = []
    for _ in range(20):
        t = time.perf_counter()
        assert bpf_compile(SMALL, vmlinux=vmlinux_dir, compiler=clang) == obj
        times.append(time.perf_counter() - t)
    assert min(times) < 0.005, times
    # Discovery is remembered too: the default compiler needs no probe.
    monkeypatch.setattr(discover, "_memo", {})
    assert bpf_compile(SMALL, vmlinux=vmlinux_dir) is not None


def test_cache_key_covers_source_and_flags(clang, vmlinux_dir):
    a = bpf_compile(SMALL, vmlinux=vmlinux_dir, compiler=clang)
    b = bpf_compile(SMALL + "\n", vmlinux=vmlinux_dir, compiler=clang)
    c = bpf_compile(SMALL, ["-DFOO=1"], vmlinux=vmlinux_dir, compiler=clang)
    d = bpf_compile(SMALL, vmlinux=vmlinux_dir, compiler=clang, filename="other.c")
    assert len({a, b, c, d}) == 4


def test_cache_refuses_unsafe_directory(tmp_path, monkeypatch, clang):
    root = tmp_path / "shared"
    root.mkdir()
    os.chmod(root, 0o777)
    monkeypatch.setenv("PYBCC_CACHE_DIR", str(root))
    with pytest.raises(CompileError, match="refusing to use cache directory"):
        bpf_compile("int x;\n", vmlinux=False, compiler=clang)


# --- a program's own vmlinux.h (kernel_types.py) ------------------------------------

# BPF_CORE_READ through task->mm needs struct mm_struct complete, which the
# text never names: the first compile learns it from clang's error.
THROUGH_POINTER = """\
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

SEC("tracepoint/syscalls/sys_enter_getpid")
int count(void *ctx)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	return BPF_CORE_READ(t, mm, map_count);
}

char LICENSE[] SEC("license") = "GPL";
"""

# bcc's implicit kernel reads need complete types in the front end's AST.
UNNAMED_POINTER = """
import os
from pybcc.bcc import BPF
b = BPF(text='''
BPF_ARRAY(out, u64, 1);
TRACEPOINT_PROBE(syscalls, sys_enter_getppid) {
    if ((bpf_get_current_pid_tgid() >> 32) != %d)
        return 0;
    struct task_struct *t = (struct task_struct *)bpf_get_current_task();
    u64 v = t->mm->arg_start;
    int zero = 0;
    out.update(&zero, &v);
    return 0;
}''' % os.getpid())
os.getppid()
print(b['out'][0].value)
with open('/proc/self/stat') as f:
    print(f.read().rsplit(')', 1)[1].split()[45])
"""


def _fresh_process(tmp_path, code):
    """Run ``code`` in a new process with an empty cache; -> (stdout, cache dir)."""
    cache = tmp_path / "cache"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       cwd=os.path.dirname(HERE), env=dict(os.environ, PYBCC_CACHE_DIR=str(cache)))
    assert r.returncode == 0, r.stderr[-3000:]
    return r.stdout, cache


def _headers(cache, kind):
    d = cache / kind
    return [d / x / "vmlinux.h" for x in os.listdir(d)] if d.is_dir() else []


def test_program_types_need_no_whole_header(clang, tmp_path):
    src = tmp_path / "prog.bpf.c"
    src.write_text(THROUGH_POINTER)
    out, cache = _fresh_process(tmp_path, (
        "from pybcc.compiler import build, compile\n"
        f"print(compile({str(src)!r}, vmlinux=build.PROGRAM_TYPES))\n"))
    obj = out.split()[-1]
    check_object(obj)
    assert not [h for h in _headers(cache, "vmlinux") if h.exists()]
    own = [h for h in _headers(cache, "kernel-types") if h.exists()]
    assert own and all(h.stat().st_size < 500_000 for h in own)
    assert any("struct mm_struct {" in h.read_text() for h in own)   # learned
    assert bpftool_load(obj) == ["count"]
    # Another program naming the same types, in a new process: the names
    # index and the header are remembered, so the kernel BTF is not parsed.
    src.write_text(THROUGH_POINTER.replace("struct task_struct *t", "struct mm_struct *m = 0; "
                                           "struct task_struct *t"))
    out, _ = _fresh_process(tmp_path, (
        "from pybcc.btf import types\n"
        "from pybcc.compiler import build, compile\n"
        f"print(compile({str(src)!r}, vmlinux=build.PROGRAM_TYPES))\n"
        "print(types._kernel_btf is None)\n"))
    assert out.split()[-1] == "True"
    check_object(out.split()[-2])


def test_program_types_errors_name_user_line(clang):
    # clang's error with the program's header teaches nothing: the whole
    # header's error is reported, with the user's line.
    line = BROKEN.splitlines().index("\tkey += x;") + 1
    with pytest.raises(CompileError) as ei:
        bpf_compile(BROKEN, vmlinux=build.PROGRAM_TYPES, compiler=clang, filename="prog.bpf.c")
    assert str(ei.value).startswith(f"prog.bpf.c:{line}:9: error: use of undeclared identifier 'x'")
    assert ei.value.line == line


@pytest.mark.skipif(os.geteuid() != 0, reason="loads and attaches BPF (root)")
def test_bcc_text_reads_through_unnamed_pointer(clang, tmp_path):
    """t->mm->arg_start, struct mm_struct never named: read with
    bpf_probe_read_kernel (the verifier refuses a direct load), giving this
    process's own argument start; no whole vmlinux.h made on the way."""
    out, cache = _fresh_process(tmp_path, UNNAMED_POINTER)
    got, want = out.split()[-2:]
    assert int(got) == int(want) != 0
    assert not [h for h in _headers(cache, "vmlinux") if h.exists()]


# --- errors ------------------------------------------------------------------------

BROKEN = SMALL.replace("u32 key = 0;", "u32 key = 0;\n\tkey += x;")


def test_compile_error_names_user_file_and_line(clang, vmlinux_dir):
    line = BROKEN.splitlines().index("\tkey += x;") + 1
    with pytest.raises(CompileError) as ei:
        bpf_compile(BROKEN, vmlinux=vmlinux_dir, compiler=clang, filename="prog.bpf.c")
    e = ei.value
    assert str(e).startswith(f"prog.bpf.c:{line}:9: error: use of undeclared identifier 'x'")
    assert e.filename == "prog.bpf.c" and e.line == line
    assert "key += x" in str(e)           # the source excerpt follows
    assert "error" in e.output


def test_text_source_is_named_text(clang):
    with pytest.raises(CompileError) as ei:
        bpf_compile("int f(void) {\n  return y;\n}\n", vmlinux=False, compiler=clang)
    assert str(ei.value).startswith("<text>:2:")


def test_line_map_list_and_callable(clang):
    # The caller rewrote 3 user lines into 5; compiled line 4 is user line 2.
    text = "// generated\nint f(void)\n{\n  return y;\n}\n"
    with pytest.raises(CompileError) as ei:
        bpf_compile(text, vmlinux=False, compiler=clang, filename="user.c",
                    line_map=[None, 1, 1, 2, 3])
    assert str(ei.value).startswith("user.c:2:")
    assert ei.value.line == 2
    with pytest.raises(CompileError) as ei:
        bpf_compile(text, vmlinux=False, compiler=clang, filename="user.c",
                    line_map=lambda n: n + 100)
    assert str(ei.value).startswith("user.c:104:")


def test_several_errors_are_counted(clang):
    with pytest.raises(CompileError) as ei:
        bpf_compile("int f(void) { return a + b + c; }\n", vmlinux=False, compiler=clang)
    assert "2 more errors" in str(ei.value)


def test_error_in_header_names_header(clang, tmp_path):
    (tmp_path / "bad.h").write_text("int g(void) { return zz; }\n")
    with pytest.raises(CompileError) as ei:
        bpf_compile('#include "bad.h"\n', [], [tmp_path], vmlinux=False, compiler=clang)
    assert ei.value.filename.endswith("bad.h") and ei.value.line == 1


# --- discovery ---------------------------------------------------------------------

def test_no_compiler_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("CC", raising=False)
    monkeypatch.setattr(discover, "ZIGLANG_MODULE", "pybcc_no_such_module")
    with pytest.raises(CompileError) as ei:
        discover.find_compiler(refresh=True)
    msg = str(ei.value)
    assert "apt install clang" in msg and "pybcc[compiler]" in msg


def test_cc_that_cannot_target_bpf_is_skipped(monkeypatch, tmp_path, clang):
    fake = tmp_path / "gcc"
    fake.write_text("#!/bin/sh\necho 'gcc (Debian 12.2.0-14) 12.2.0'\nexit 0\n")
    fake.chmod(0o755)
    monkeypatch.setenv("CC", str(fake))
    comp = discover.find_compiler(refresh=True)
    assert comp.kind in ("clang", "zig") and comp.path != str(fake)


def test_cc_is_honoured(monkeypatch, clang):
    monkeypatch.setenv("CC", clang.path)
    assert discover.find_compiler(refresh=True).path == clang.path


def test_compiler_facts_are_cached_on_disk(monkeypatch, clang):
    discover.system_clang(refresh=True)
    monkeypatch.setattr(subprocess, "run",
                        lambda *a, **k: (_ for _ in ()).throw(AssertionError("probed")))
    assert discover.system_clang().version == clang.version


# --- headers -----------------------------------------------------------------------

def header_helpers():
    with open(os.path.join(INCLUDE, "bpf", "bpf_helper_defs.h")) as f:
        text = f.read()
    return {m.group(1): int(m.group(2))
            for m in re.finditer(r"\(\* const bpf_(\w+)\)\(.*\) = \(void \*\) (\d+);", text)}


def test_helper_ids_match_kernel():
    if not os.path.exists("/sys/kernel/btf/vmlinux"):
        pytest.skip("no kernel BTF")
    from pybcc.btf import BTF
    enum = BTF.kernel().find("bpf_func_id")
    kernel = {v.name[len("BPF_FUNC_"):]: v.value for v in enum.members
              if v.name.startswith("BPF_FUNC_") and v.name != "BPF_FUNC_unspec"}
    ours = header_helpers()
    wrong = {n: (i, kernel[n]) for n, i in ours.items() if n in kernel and kernel[n] != i}
    assert not wrong
    # Every helper of the running kernel is declared (newer kernels may add more).
    assert not set(kernel) - set(ours)
    assert len(ours) >= 211


def test_headers_are_self_contained(clang):
    # Without vmlinux.h, the helpers header still compiles (builtin types only).
    src = "#include <bpf/bpf_helpers.h>\n#include <bpf/bpf_endian.h>\n" \
          "#include <bpf/bpf_core_read.h>\n" \
          "SEC(\"xdp\") int x(void *ctx) { bpf_printk(\"hi %d\", bpf_htons(1)); return 2; }\n" \
          "char LICENSE[] SEC(\"license\") = \"GPL\";\n"
    check_object(bpf_compile(src, vmlinux=False, compiler=clang))


def test_target_arch_names():
    assert build.target_arch("x86_64") == "x86"
    assert build.target_arch("aarch64") == "arm64"
    assert "-D__TARGET_ARCH_" + build.target_arch() in build.base_flags(
        discover.Compiler("clang", ("clang",), "/usr/bin/clang", "16.0.0"))


@pytest.mark.parametrize("which", ["clang", "zig"])
def test_errno_headers_without_kernel_headers(which, request):
    comp = request.getfixturevalue(which)
    src = "#include <asm-generic/errno.h>\n#include <linux/errno.h>\n#include <asm/errno.h>\n" \
          "#include <bpf/bpf_helpers.h>\n" \
          "_Static_assert(ENOENT == 2 && EEXIST == 17 && EOPNOTSUPP == 95, \"errno\");\n" \
          "int f(void *ctx) { return -EAGAIN; }\n"
    check_object(bpf_compile(src, vmlinux=False, compiler=comp))


def test_bpf_text_path_imports_no_dataclasses():
    """dataclasses imports inspect, ast, dis and tokenize (~15 ms of a start):
    the BPF(text=...) path's classes are pybcc.record records instead."""
    code = ("import sys\n"
            "import pybcc.bcc, pybcc.bcc.source, pybcc.bcc.dialect.rewriter, pybcc.compiler\n"
            "from pybcc.compiler import kernel_types\n"
            "print(sorted(m for m in ('dataclasses', 'inspect', 'typing') if m in sys.modules))\n")
    # -S: no site-packages .pth files (a sandbox's import typing themselves)
    r = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True,
                       cwd=os.path.dirname(HERE))
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["[]"]


@pytest.mark.parametrize("tool", ["execsnoop", "biolatency", "tcpconnect", "offcputime"])
def test_program_types_compile_the_same_instructions(clang, tool):
    """A tool's program against only the types it names is the same code as
    against the whole vmlinux.h (all 97 tools were once checked this way)."""
    from elftools.elf.elffile import ELFFile
    from pybcc.tools.lib import prebuilt

    def code(obj):
        with open(obj, "rb") as f:
            return {s.name: s.data() for s in ELFFile(f).iter_sections()
                    if s["sh_type"] == "SHT_PROGBITS" and s["sh_flags"] & 4}   # SHF_EXECINSTR
    src = os.path.join(prebuilt.TOOLS_DIR, tool + ".bpf.c")
    whole = bpf_compile(src, include_dirs=[prebuilt.INCLUDE_DIR], compiler=clang)
    own = bpf_compile(src, include_dirs=[prebuilt.INCLUDE_DIR], compiler=clang,
                      vmlinux=build.PROGRAM_TYPES)
    assert code(own) and code(own) == code(whole)
