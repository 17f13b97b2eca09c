"""The bcc-compatible API (pybcc.bcc): unit tests without BPF, then every
script in tests/bcc_scripts/ run for real through `pybcc run`.

Scripts are written as bcc scripts (`from bcc import BPF`); each checks its
own results and prints "PASS <name>", or "SKIP: <reason>" when this kernel
lacks what it needs.
"""
import contextlib
import ctypes as ct
import glob
import io
import os
import re
import subprocess
import sys
import types

import pytest

from pybcc.bcc import table as bcc_table
from pybcc.bcc.text import as_bytes, as_str
from pybcc.bcc.tracepipe import parse_line

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPTS = sorted(glob.glob(os.path.join(ROOT, "tests", "bcc_scripts", "*.py")))
SCRIPTS = [s for s in SCRIPTS if os.path.basename(s) != "scriptlib.py"]


# --- bytes where bcc returns bytes ------------------------------------------------------

def test_bytes_at_the_edge():
    assert as_bytes("do_sys_open") == b"do_sys_open" and as_bytes(b"x") == b"x"
    assert as_bytes(None) is None and as_str(b"\xff") == "\udcff"
    assert as_bytes(as_str(b"raw \xff")) == b"raw \xff"


def test_bcc_api_returns_bytes(root):
    from pybcc.bcc import BPF, syscall
    addr = BPF.ksymname("vfs_read")
    assert addr > 0
    assert BPF.ksym(addr) == b"vfs_read" and BPF.ksym(addr, show_module=True) == b"vfs_read [kernel]"
    assert BPF.ksym(addr + 3, show_offset=True).split(b"+") == [b"vfs_read", b"0x3"]
    assert BPF.sym(addr, -1) == b"vfs_read"
    assert BPF.get_syscall_fnname("clone").endswith(b"sys_clone")
    assert BPF.get_syscall_fnname(b"clone") == BPF.get_syscall_prefix() + b"clone"
    assert all(isinstance(tp, bytes) for tp in BPF.get_tracepoints(b"sched:sched_switch"))
    assert BPF.get_tracepoints("sched:sched_switch") == [b"sched:sched_switch"]
    libc = BPF.find_library("c")
    assert isinstance(libc, bytes) and b"libc" in libc
    assert isinstance(BPF.find_exe("sh"), bytes)
    names = BPF.get_user_functions(b"c", b"getpid$")
    assert names == {b"getpid"}
    assert syscall.syscall_name(0) == b"read" and isinstance(syscall.syscalls[0], bytes)
    if not BPF.support_kprobe():
        assert BPF.get_kprobe_functions(b"vfs_.*") == set()
    else:
        assert b"vfs_read" in BPF.get_kprobe_functions(b"vfs_rea.")


# --- sections: one map to bcc's attach kinds ----------------------------------------

@pytest.mark.parametrize("section,kind", [
    ("kprobe/do_sys_open", "kprobe"), ("kretprobe/do_sys_open", "kretprobe"),
    ("ksyscall/openat", "ksyscall"), ("kretsyscall/openat", "kretsyscall"),
    ("tracepoint/sched/sched_switch", "tracepoint"), ("tp/sched/sched_switch", "tracepoint"),
    ("raw_tp/sys_enter", "raw_tracepoint"), ("tp_btf/sched_switch", "tp_btf"),
    ("fentry/vfs_read", "kfunc"), ("fexit.s/vfs_read", "kretfunc"),
    ("fmod_ret/x", "kmod_ret"), ("lsm/file_open", "lsm"), ("lsm.s/file_open", "lsm"),
    ("uprobe/bin:f", "uprobe"), ("uretprobe.s/bin:f", "uretprobe"),
    ("kprobe.multi/vfs_*", "kprobe_multi"), ("kretprobe.multi/vfs_*", "kretprobe_multi"),
    ("uprobe.multi/bin:f*", "uprobe_multi"), ("usdt/bin:p:n", "usdt"),
    ("xdp", ""), ("socket", ""), ("cgroup/skb", ""), ("nothing/known", ""),
])
def test_section_bcc_kind(section, kind):
    from pybcc import sections
    sdef, _ = sections.lookup(section)
    assert sections.bcc_kind(sdef) == kind


# --- histograms: bcc's exact text --------------------------------------------------------

class _Fake(bcc_table.TableBase):
    """A table without a kernel map: Key and items are given."""

    def __init__(self, key, pairs):
        self.Key = key
        self.name = "fake"
        self._pairs = pairs

    def items(self):
        return list(self._pairs)


def _printed(fn, *a, **kw):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        fn(*a, **kw)
    return out.getvalue()


def _log2_table(counts):
    return _Fake(ct.c_int, [(ct.c_int(k), ct.c_ulong(v)) for k, v in counts.items()])


LOG2_GOLDEN = """\
     usecs               : count     distribution
         0 -> 1          : 0        |                                        |
         2 -> 3          : 0        |                                        |
         4 -> 7          : 0        |                                        |
         8 -> 15         : 0        |                                        |
        16 -> 31         : 0        |                                        |
        32 -> 63         : 0        |                                        |
        64 -> 127        : 1        |                                        |
       128 -> 255        : 12       |*********                               |
       256 -> 511        : 15       |***********                             |
       512 -> 1023       : 43       |*********************************       |
      1024 -> 2047       : 52       |****************************************|
      2048 -> 4095       : 47       |************************************    |
      4096 -> 8191       : 52       |****************************************|
      8192 -> 16383      : 36       |***************************             |
     16384 -> 32767      : 15       |***********                             |
     32768 -> 65535      : 2        |*                                       |
     65536 -> 131071     : 2        |*                                       |
"""


def test_log2_hist_golden():
    counts = {7: 1, 8: 12, 9: 15, 10: 43, 11: 52, 12: 47, 13: 52, 14: 36, 15: 15, 16: 2, 17: 2}
    assert _printed(_log2_table(counts).print_log2_hist, "usecs") == LOG2_GOLDEN


def test_log2_hist_strip_leading_zero_and_empty():
    t = _log2_table({3: 4, 5: 2})
    assert _printed(t.print_log2_hist, strip_leading_zero=True) == (
        "     value               : count     distribution\n"
        "         4 -> 7          : 4        |****************************************|\n"
        "         8 -> 15         : 0        |                                        |\n"
        "        16 -> 31         : 2        |********************                    |\n")
    assert _printed(_log2_table({}).print_log2_hist) == ""
    # only slot 0 (the value 0) set: bcc prints nothing either
    assert _printed(_log2_table({0: 5}).print_log2_hist) == ""


def test_log2_hist_wide_buckets():
    text = _printed(_log2_table({1: 1, 40: 3}).print_log2_hist, "ns")
    lines = text.splitlines()
    assert lines[0] == "               ns                            : count     distribution"
    assert lines[1] == "                   0 -> 1                    : 1        |******              |"
    assert lines[40] == "        549755813888 -> 1099511627775        : 3        |********************|"


def test_linear_hist_golden():
    t = _Fake(ct.c_int, [(ct.c_int(0), ct.c_ulong(1776)), (ct.c_int(2), ct.c_ulong(300)),
                         (ct.c_int(3), ct.c_ulong(2000))])
    assert _printed(t.print_linear_hist, "runqlen") == (
        "     runqlen       : count     distribution\n"
        "        0          : 1776     |" + "*" * 35 + " " * 5 + "|\n"
        "        1          : 0        |                                        |\n"
        "        2          : 300      |******                                  |\n"
        "        3          : 2000     |****************************************|\n")
    t = _Fake(ct.c_int, [(ct.c_int(2000), ct.c_ulong(1))])
    with pytest.raises(IndexError, match="exceeds max of 1025"):
        t.print_linear_hist()


class _DiskKey(ct.Structure):
    _fields_ = [("disk", ct.c_char * 8), ("slot", ct.c_ulonglong)]


def _sectioned():
    def k(disk, slot):
        return _DiskKey(disk, slot)
    return _Fake(_DiskKey, [(k(b"sda", 1), ct.c_ulong(2)), (k(b"sdb", 2), ct.c_ulong(4)),
                            (k(b"sda", 3), ct.c_ulong(6))])


def test_sectioned_log2_hist():
    text = _printed(_sectioned().print_log2_hist, "usecs", "disk",
                    section_print_fn=lambda d: d.decode(),
                    bucket_sort_fn=lambda b: sorted(b))
    assert text == (
        "\ndisk = sda\n"
        "     usecs               : count     distribution\n"
        "         0 -> 1          : 2        |*************                           |\n"
        "         2 -> 3          : 0        |                                        |\n"
        "         4 -> 7          : 6        |****************************************|\n"
        "\ndisk = sdb\n"
        "     usecs               : count     distribution\n"
        "         0 -> 1          : 0        |                                        |\n"
        "         2 -> 3          : 4        |****************************************|\n")
    # without section_print_fn the bucket is shown with %r, as bcc does
    assert "\nBucket ptr = b'sda'\n" in _printed(_sectioned().print_log2_hist)


def test_json_hist():
    text = _printed(_log2_table({1: 3, 3: 5}).print_json_hist, "usecs")
    d = eval(text)   # bcc prints the dict itself
    assert d["val_type"] == "usecs" and re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$", d["ts"])
    assert d["data"] == [{"interval-start": 0, "interval-end": 1, "count": 3},
                         {"interval-start": 2, "interval-end": 3, "count": 0},
                         {"interval-start": 4, "interval-end": 7, "count": 5}]
    sec = [eval(line) for line in _printed(_sectioned().print_json_hist, "usecs", "disk",
                                          section_print_fn=bytes.decode).splitlines()]
    assert [s["disk"] for s in sec] == ["sda", "sdb"]


def test_hist_of_per_cpu_values_sums_cpus():
    arr = (ct.c_ulong * 2)(3, 4)
    t = _Fake(ct.c_int, [(ct.c_int(1), arr)])
    assert ": 7 " in _printed(t.print_log2_hist)


# --- trace_pipe lines ------------------------------------------------------------------

@pytest.mark.parametrize("line,want", [
    (b"           <...>-1234    [001] d..31  5678.123456: bpf_trace_printk: hello world",
     ("<...>", 1234, 1, "d..31", 5678.123456, "hello world")),
    (b"     python3-99 [000] ....  12.5: 0x00000001: Hello, World!",
     ("python3", 99, 0, "....", 12.5, "Hello, World!")),
    (b" kworker/u8:2-123     [003] .N...  100.000001: bpf_trace_printk: a: b",
     ("kworker/u8:2", 123, 3, ".N...", 100.000001, "a: b")),
    (b"   my-task-name-7 [002] ..... 1.000000: bpf_trace_printk: x",
     ("my-task-name", 7, 2, ".....", 1.0, "x")),
])
def test_parse_trace_line(line, want):
    got = parse_line(line)
    task, pid, cpu, flags, ts, msg = want
    assert got == (task.encode(), pid, cpu, flags.encode(), ts, msg.encode())


def test_parse_trace_line_skips_lost_events_and_blank_lines():
    assert parse_line(b"CPU:1 [LOST 35 EVENTS]") is None
    assert parse_line(b"") is None and parse_line(b"\n") is None


# --- helper modules -----------------------------------------------------------------------

def test_helper_modules():
    from pybcc.bcc import containers, syscall, tcp
    from pybcc.bcc.utils import ArgString, printb
    assert tcp.tcpstate[1] == "ESTABLISHED" and tcp.tcpstate[12] == "NEW_SYN_RECV"
    assert tcp.flags2str(tcp.TCPHDR_SYN | tcp.TCPHDR_ACK) == "SYN|ACK"
    if syscall.syscalls:
        assert syscall.syscall_name(0) == b"read"
    assert syscall.syscall_name(99999) == b"[unknown: 99999]"
    text = containers.filter_by_containers(types.SimpleNamespace(cgroupmap=None, mntnsmap=None))
    assert "container_should_be_filtered" in text and "BPF_TABLE_PINNED" not in text
    text = containers.filter_by_containers(
        types.SimpleNamespace(cgroupmap="/sys/fs/bpf/cg", mntnsmap="/sys/fs/bpf/mnt"))
    assert '"/sys/fs/bpf/cg"' in text and '"/sys/fs/bpf/mnt"' in text
    assert bytes(ArgString("comm")) == b"comm" and str(ArgString(b"x")) == "x"
    out = io.BytesIO()
    printb(b"raw \xff bytes", file=types.SimpleNamespace(buffer=out, flush=lambda: None))
    assert out.getvalue() == b"raw \xff bytes\n"


def test_import_bcc_through_run(tmp_path):
    script = tmp_path / "s.py"
    script.write_text("import sys, bcc, bcc.table, bcc.utils\n"
                      "from bcc import BPF, PerfType, PerfSWConfig, USDT\n"
                      "from bcc.utils import printb\n"
                      "from bcc.syscall import syscall_name\n"
                      "from bcc.tcp import tcpstate\n"
                      "from bcc.containers import filter_by_containers\n"
                      "assert BPF.__module__ == 'pybcc.bcc.bpf' and bcc.table.HashTable\n"
                      "assert BPF.KPROBE == 2 and BPF.TRACEPOINT == 5 and BPF.XDP_PASS == 2\n"
                      "assert PerfType.SOFTWARE == 1 and PerfSWConfig.CPU_CLOCK == 0\n"
                      "print(sys.argv[1:], __name__)\n"
                      "sys.exit(3)\n")
    r = subprocess.run([sys.executable, "-m", "pybcc", "run", str(script), "-x", "y"],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 3, r.stderr
    assert r.stdout == "['-x', 'y'] __main__\n"


# --- the scripts, for real ---------------------------------------------------------------

# Under TCG in the VM, a cold compile of a script takes minutes on a busy host.
SCRIPT_TIMEOUT = 600 if os.environ.get("PYBCC_VMTEST") == "1" else 120


def run_script(path, timeout=SCRIPT_TIMEOUT, env=None):
    return subprocess.run([sys.executable, "-m", "pybcc", "run", path], capture_output=True,
                          text=True, timeout=timeout, cwd=ROOT, env=env)


def _script_params():
    """vm_*.py need kprobes/fentry: also run in the stock-kernel VM (-m vm)."""
    for s in SCRIPTS:
        name = os.path.basename(s)[:-3]
        yield pytest.param(s, id=name, marks=[pytest.mark.vm] if name.startswith("vm_") else [])


@pytest.mark.parametrize("script", list(_script_params()))
def test_script(root, script):
    r = run_script(script)
    name = os.path.basename(script)[:-3]
    skip = re.search(r"^SKIP: (.*)$", r.stdout, re.M)
    if skip and r.returncode == 0:
        pytest.skip(skip.group(1))
    assert r.returncode == 0 and f"PASS {name}" in r.stdout, \
        f"exit {r.returncode}\nstdout:\n{r.stdout[-3000:]}\nstderr:\n{r.stderr[-3000:]}"


def test_compile_error_names_the_users_line_and_column():
    from pybcc.bcc import BPF
    from pybcc.errors import CompileError
    user = "int kprobe__nothing(struct pt_regs *ctx) { u32 k = 0; counts.increment(k); return nope; }"
    with pytest.raises(CompileError) as e:
        BPF(text="\nBPF_HASH(counts, u32, u64);\n" + user + "\n")
    col = user.index("nope") + 1
    lines = str(e.value).splitlines()
    assert lines[0] == f"<text>:3:{col}: error: use of undeclared identifier 'nope'"
    assert lines[1] == user and lines[2] == " " * (col - 1) + "^"
    assert ".bpf.fn." not in str(e.value) and e.value.line == 3


def test_key_leaf_text_form(root):
    """key_sprintf/leaf_sprintf/key_scanf/leaf_scanf, bcc's text form."""
    from pybcc.bcc import BPF
    b = BPF(text="""
struct name_t { char name[8]; char path[8]; };
struct leaf_t { u32 a[3]; u64 b; struct name_t n[2]; };
BPF_HASH(t, u32, struct leaf_t, 4);
int on_x(void *ctx) { return 0; }
""")
    try:
        t = b["t"]
        assert t.key_sprintf(t.Key(2)) == b"0x2" and t.key_scanf(b"0x2").value == 2
        leaf = t.Leaf()
        leaf.a[0], leaf.a[2], leaf.b, leaf.n[1].name = 1, 3, 4, b"comm"
        s = t.leaf_sprintf(leaf)
        assert s == b'{ [ 0x1 0x0 0x3 ] 0x4 [ { "" "" } { "comm" "" } ] }'
        back = t.leaf_scanf(s)
        assert list(back.a) == [1, 0, 3] and back.b == 4 and back.n[1].name == b"comm"
    finally:
        b.cleanup()


def test_more_bcc_modules(tmp_path):
    from pybcc.bcc import BPF, StrcmpRewrite, __version__
    from pybcc.bcc.tcp import state2str
    assert state2str(10) == "LISTEN" and state2str(99) == "99"
    assert __version__ and isinstance(BPF.support_fmod_ret(), bool)
    r = StrcmpRewrite.rewrite_expr('STRCMP("bash", arg1) && arg2 > 1', False, True, [], "", 3)
    assert r["expr"] == 'streq_3("bash", arg1) && arg2 > 1' and r["probeid"] == 4
    assert "static inline bool streq_3" in r["streq_functions"]
    assert "bpf_probe_read_user" in r["streq_functions"]
    # bcc.exec: the command waits for cmd_ready(), then runs and is reaped
    script = tmp_path / "s.py"
    script.write_text(
        "import os, sys, time\n"
        "from bcc.exec import run_cmd, cmd_ready, cmd_exited\n"
        f"pid = run_cmd(['sh', '-c', 'echo ran > {tmp_path}/out'])\n"
        "time.sleep(0.3)\n"
        f"assert not os.path.exists('{tmp_path}/out') and not cmd_exited()\n"
        "cmd_ready()\n"
        "end = time.time() + 10\n"
        "while not cmd_exited() and time.time() < end:\n"
        "    time.sleep(0.05)\n"
        "print('exited', cmd_exited(), open(sys.argv[1]).read().strip())\n")
    r = subprocess.run([sys.executable, "-m", "pybcc", "run", str(script), str(tmp_path / "out")],
                       capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert r.stdout == "exited 1 ran\n", r.stderr


def test_sym_of_build_id_frames():
    """BPF_STACK_TRACE_BUILDID frames: (status, build id, file offset), resolved
    through the modules given to add_module()."""
    from pybcc import symbols
    from pybcc.bcc import BPF
    libc = BPF.find_library("c")
    assert BPF.add_module(libc)
    syms = symbols.load_elf(libc.decode())
    getpid = syms.find("getpid")
    frame = (1, bytes.fromhex(syms.build_id), getpid.offset + 2)
    assert BPF.sym(frame, -1) == b"getpid"
    assert BPF.sym(frame, -1, show_offset=True, show_module=True) == b"getpid+0x2 [libc.so.6]"
    assert BPF.sym((2, b"\0" * 20, 0x1234), -1) == b"[unknown]"     # only an address


def test_lone_char_is_c_char(root):
    """bcc gives a struct's `char` field as ctypes.c_char (filetop prints k.type.decode())."""
    from pybcc.bcc import BPF
    b = BPF(text="struct k_t { u32 pid; char type; char name[4]; }; BPF_HASH(h, struct k_t, char);")
    h = b["h"]
    k = h.Key()
    k.pid, k.type, k.name = 7, b"R", b"ab"
    h[k] = ct.c_char(b"v")
    [(key, value)] = h.items()
    assert (key.pid, key.type, key.name, value.value) == (7, b"R", b"ab", b"v")
    b.cleanup()


def test_table_of_an_incomplete_type_is_refused():
    """As bcc: a table's key and leaf types must be complete where it is declared."""
    from pybcc.bcc import BPF
    from pybcc.errors import CompileError
    with pytest.raises(CompileError) as e:
        BPF(text="BPF_HASH(drops, struct key_t);\nstruct key_t {\n    u64 location;\n};\n")
    assert "incomplete type 'struct key_t'" in str(e.value) and e.value.line == 1


def test_printk_format_warnings_on_stderr(capfd):
    """As bcc: a format bcc does not accept is a warning on stderr, and the
    program still compiles (also when the rewrite comes from the cache)."""
    from pybcc.bcc import BPF
    text = 'int trace_entry(struct pt_regs *ctx) {\n  bpf_trace_printk("%lf %s %s\\n", 1, "a", "b");\n  return 0;\n}\n'
    for _ in range(2):
        BPF(text=text)
        err = capfd.readouterr().err
        assert "<text>:2:21: warning: only %d %u %x %ld %lu %lx %lld %llu %llx %p %s conversion " \
               "specifiers allowed" in err, err
