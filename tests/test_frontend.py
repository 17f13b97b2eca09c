"""The bcc C dialect front end: rewritten text (no root), then real programs
rewritten, compiled, loaded, attached, triggered and read back (root).

Kernel tests filter on this process (`const volatile` target_tgid set at
load) because other tests may run at the same time. kprobe/fentry/LSM tests
are marked `vm`: they run on a stock kernel and skip where the feature is
missing.
"""
import ctypes
import os
import struct
import subprocess

import pytest

from pybcc import sections
from pybcc.errors import CompileError
from pybcc.bcc.dialect import rewrite
from pybcc.bcc.dialect.implicit import insert_reads
from pybcc.bcc.dialect.lexer import tokenize
from pybcc.bcc.dialect.tracepoints import struct_text
from pybcc.kernel import features, tracefs
from pybcc.kernel.tracefs import parse_format
from pybcc.kernel.uapi import MapType

NR_GETPPID = 110  # x86_64
O_LARGEFILE = 0o100000


def rw(text, **kw):
    kw.setdefault("implicit_reads", False)
    return rewrite(text, **kw)


def body(r):
    """The rewritten user part (after the #line directive)."""
    return r.c_text.split("#line 1 ", 1)[1].split("\n", 1)[1]


# --- unit: lexer and text --------------------------------------------------------

def test_tokenize_round_trip():
    text = '#include <x>\n#define A(x) \\\n  x + 1\nint a = \'"\'; /* c\n */ s = "a\\"b"; x->y;\n'
    toks = tokenize(text)
    assert "".join(t.text for t in toks) == text
    assert [t.kind for t in toks if t.kind == "pp"] == ["pp", "pp"]
    assert any(t.text == "->" for t in toks)


def test_lines_are_preserved():
    text = """BPF_HASH(a,
             u32,
             u64);
int kprobe__vfs_read(struct pt_regs *ctx,
                     struct file *file)
{
    u32 k = 1;
    a.update(&k,
             &k);
    return 0;
}
"""
    r = rw(text)
    b = body(r)
    assert b.count("\n") == text.count("\n")
    lines = b.split("\n")
    assert "return 0;" in lines[9]
    assert "bpf_map_update_elem" in lines[7]
    assert r.line_map[:3] == [1, 2, 3]


# --- unit: tables -------------------------------------------------------------------

def test_table_defaults():
    r = rw("""
BPF_HASH(h1);
BPF_HASH(h2, struct key_t);
BPF_HASH(h3, u32, struct val_t, 128);
BPF_ARRAY(a1);
BPF_ARRAY(a2, u32, 4);
BPF_HISTOGRAM(hist);
BPF_HISTOGRAM(hist2, struct hkey_t, 32);
BPF_PERF_OUTPUT(events);
BPF_RINGBUF_OUTPUT(rb, 8);
BPF_STACK_TRACE(stacks, 1024);
BPF_PERCPU_ARRAY(pa, u64, 2);
BPF_PERCPU_HASH(ph, u32);
BPF_TABLE("lru_hash", u32, u64, lru, 100);
BPF_F_TABLE("hash", u32, u64, nopre, 100, BPF_F_NO_PREALLOC);
BPF_LPM_TRIE(trie, struct lpm_key);
BPF_PROG_ARRAY(jumps, 8);
BPF_QUEUE(q, u32, 16);
BPF_STACK(st, u64, 16);
BPF_TASK_STORAGE(ts, u64);
BPF_CGROUP_ARRAY(cg, 4);
BPF_TABLE_PINNED("hash", u32, u64, pinned, 10, "/sys/fs/bpf/x");
#define N 3
BPF_ARRAY(sized, u64, N * 2);
""")
    t = r.tables
    assert (t["h1"].map_type, t["h1"].key_type, t["h1"].leaf_type, t["h1"].max_entries) == \
        (MapType.HASH, "u64", "u64", 10240)
    assert (t["h2"].key_type, t["h2"].leaf_type) == ("struct key_t", "u64")
    assert (t["h3"].leaf_type, t["h3"].max_entries) == ("struct val_t", 128)
    assert (t["a1"].map_type, t["a1"].key_type, t["a1"].leaf_type, t["a1"].max_entries) == \
        (MapType.ARRAY, "int", "u64", 10240)
    assert (t["a2"].leaf_type, t["a2"].max_entries) == ("u32", 4)
    assert (t["hist"].map_type, t["hist"].key_type, t["hist"].max_entries, t["hist"].kind) == \
        (MapType.ARRAY, "int", 64, "histogram")
    assert (t["hist2"].map_type, t["hist2"].key_type) == (MapType.HASH, "struct hkey_t")
    assert t["events"].map_type == MapType.PERF_EVENT_ARRAY
    assert (t["rb"].map_type, t["rb"].max_entries) == (MapType.RINGBUF, 8 * 4096)
    assert (t["stacks"].map_type, t["stacks"].max_entries) == (MapType.STACK_TRACE, 1024)
    assert t["pa"].map_type == MapType.PERCPU_ARRAY and t["ph"].map_type == MapType.PERCPU_HASH
    assert t["lru"].map_type == MapType.LRU_HASH
    assert t["nopre"].flags == 1
    assert (t["trie"].map_type, t["trie"].flags) == (MapType.LPM_TRIE, 1)
    assert t["jumps"].map_type == MapType.PROG_ARRAY
    assert t["q"].map_type == MapType.QUEUE and t["q"].key_type == ""
    assert t["st"].map_type == MapType.STACK
    assert t["ts"].map_type == MapType.TASK_STORAGE and t["ts"].flags == 1
    assert t["cg"].map_type == MapType.CGROUP_ARRAY
    assert t["pinned"].pinned == "/sys/fs/bpf/x"
    assert t["sized"].max_entries == 6
    b = body(r)
    assert 'h3 SEC(".maps")' in b and "__type(value, struct val_t)" in b


def test_table_errors_name_the_line():
    with pytest.raises(CompileError) as ei:
        rw("\n\nBPF_HASH();\n")
    assert ei.value.line == 3 and "BPF_HASH" in str(ei.value)
    with pytest.raises(CompileError) as ei:
        rw('BPF_TABLE("nosuch", u32, u64, x, 1);\n')
    assert "unknown table type" in str(ei.value) and ei.value.line == 1


# --- unit: methods --------------------------------------------------------------

def test_methods_rewritten():
    r = rw("""
BPF_HASH(h, u32, u64);
BPF_PERF_OUTPUT(events);
BPF_STACK_TRACE(stacks, 16);
BPF_PROG_ARRAY(jmp, 4);
BPF_RINGBUF_OUTPUT(rb, 1);
int f(struct pt_regs *ctx) {
    u32 k = 0; u64 v = 1;
    u64 *p = h.lookup(&k);
    h.update(&k, &v); h.insert(&k, &v); h.delete(&k);
    p = h.lookup_or_try_init(&k, &v);
    h.increment(k); h.increment(k, 2); h.atomic_increment(k);
    events.perf_submit(ctx, &v, sizeof(v));
    int id = stacks.get_stackid(ctx, 0);
    jmp.call(ctx, 1);
    rb.ringbuf_output(&v, sizeof(v), 0);
    u64 *e = rb.ringbuf_reserve(sizeof(u64));
    if (e) rb.ringbuf_submit(e, 0);
    h.update(&k, h.lookup(&k));
    return 0;
}
""")
    b = body(r)
    assert "h.lookup" not in b and "h.update" not in b
    assert "bpf_map_lookup_elem((void *)&h, &k)" in b
    assert "bpf_map_update_elem((void *)&h, &k, &v, BPF_ANY)" in b
    assert "BPF_NOEXIST" in b and "bpf_map_delete_elem((void *)&h, &k)" in b
    assert "__sync_fetch_and_add" in b
    assert "bpf_perf_event_output(ctx, (void *)&events, BPF_F_CURRENT_CPU, &v, sizeof(v))" in b
    assert "bpf_get_stackid(ctx, (void *)&stacks, 0)" in b
    assert "bpf_tail_call(ctx, (void *)&jmp, 1)" in b
    assert "bpf_ringbuf_reserve((void *)&rb, sizeof(u64), 0)" in b
    # nested method calls are rewritten inside arguments
    assert "bpf_map_update_elem((void *)&h, &k, ((__typeof__(h.value))bpf_map_lookup_elem" in b
    assert r.functions == ["f"]


def test_line_directive_in_text():
    # A caller that prepends its own C ends it with #line 1: errors still name the user's lines.
    prefix = "#define HELPER 1\nstatic int h(void) { return HELPER; }\n#line 1 \"<text>\"\n"
    with pytest.raises(CompileError) as ei:
        rw(prefix + "BPF_HASH(h);\nint f(void *ctx) {\n  h.nosuch(1);\n  return 0; }\n")
    assert ei.value.line == 3


def test_unknown_method_and_wrong_table():
    with pytest.raises(CompileError) as ei:
        rw("BPF_HASH(h);\nint f(void *ctx) {\n  h.frobnicate(1);\n  return 0; }\n")
    assert ei.value.line == 3 and "frobnicate" in str(ei.value) and "<text>:3" in str(ei.value)
    with pytest.raises(CompileError) as ei:
        rw("BPF_HASH(h);\nint f(void *ctx) {\n  u64 v;\n  h.perf_submit(ctx, &v, 8);\n  return 0; }\n")
    assert ei.value.line == 4 and "BPF_PERF_OUTPUT" in str(ei.value)
    with pytest.raises(CompileError) as ei:
        rw("BPF_HASH(h);\nint f(void *ctx) {\n  h.lookup(1, 2);\n  return 0; }\n")
    assert ei.value.line == 3 and "takes 1 argument" in str(ei.value)


def test_methods_in_defines():
    r = rw("#define BUMP(k) counts.increment(k)\nBPF_HASH(counts);\n"
           "int f(void *ctx) { BUMP(1); return 0; }\n")
    assert "counts.increment" not in r.c_text and "__sync" not in r.c_text
    assert "#define BUMP(k) ({" in r.c_text


# --- unit: printk ------------------------------------------------------------------

def test_printk_checks():
    """bcc's limits: errors only where the compile would fail; format
    problems are bcc's warnings, and the program compiles."""
    ok = rw('int f(void *ctx) { bpf_trace_printk("a %d %s\\n", 1, "x"); '
            'bpf_trace_printk("100%% %llx %p" "\\n", 1ULL, ctx); return 0; }')
    assert ok.c_text.count("__pybcc_trace_printk(") == 2 and ok.warnings == []
    warned = [('bpf_trace_printk("%0.2f", 1);', 0, "only %d %u %x %ld %lu %lx %lld %llu %llx %p %s "),
              ('bpf_trace_printk("%lf", 1);', 0, "only %d %u %x"),
              ('bpf_trace_printk("%s %s", "a", "b");', 3, "cannot use several %s conversion"),
              ('bpf_trace_printk("%d %d %d %d", 1, 2, 3);', 9, "cannot use more than 3 conversion"),
              ('bpf_trace_printk("%d %d", 1);', 0, "2 conversions but 1 argument")]
    for code, col, msg in warned:
        r = rw("int f(void *ctx) {\n" + code + "\nreturn 0; }")
        assert len(r.warnings) == 1 and msg in r.warnings[0], (code, r.warnings)
        assert r.warnings[0].startswith(f"<text>:2:{19 + col}: warning: "), r.warnings
    bad = [('bpf_trace_printk("%d %d %d %d", 1, 2, 3, 4);', "at most 3"),
           ('char *s = "x"; bpf_trace_printk(s);', "string literal")]
    for code, msg in bad:
        with pytest.raises(CompileError) as ei:
            rw("int f(void *ctx) {\n" + code + "\nreturn 0; }")
        assert msg in str(ei.value) and ei.value.line == 2, code


# --- unit: bcc's packet dialect (packets.py) ------------------------------------------

def test_packet_header_layouts():
    """Offsets of <bcc/proto.h> fields as bcc computes them: bit by bit, the
    first bit the most significant of its byte; whole fields on a byte."""
    from pybcc.bcc.dialect import packets
    h = packets._proto_layouts()
    assert h["ethernet_t"] == {"dst": (0, 0, 48), "src": (6, 0, 48), "type": (12, 0, 16)}
    assert h["dot1q_t"]["vlanid"] == (0, 4, 12) and h["dot1q_t"]["type"] == (2, 0, 16)
    assert h["arp_t"]["spa"] == (14, 0, 32) and h["arp_t"]["tpa"] == (24, 0, 32)
    assert h["ip_t"]["hlen"] == (0, 4, 4) and h["ip_t"]["foffset"] == (6, 3, 13)
    assert h["ip_t"]["dst"] == (16, 0, 32) and h["tcp_t"]["flag_syn"] == (13, 6, 1)
    own = packets.layouts("struct dns_t { u16 id; u8 qr:1; u8 op:4; char pad[3]; u32 n; } BPF_PACKET_HEADER;")
    assert own == {"dns_t": {"id": (0, 0, 16), "qr": (2, 0, 1), "op": (2, 1, 4),
                             "pad": (3, 0, 24), "n": (6, 0, 32)}}


def test_packet_field_rewrites():
    r = rewrite("""#include <bcc/proto.h>
int f(struct __sk_buff *skb) {
    u8 *cursor = 0;
    struct ip_t *ip = cursor_advance(cursor, sizeof(*ip));
    u32 d = ip->dst;
    ip->src = d + 1;
    ip->ttl -= 2;
    incr_cksum_l3(&ip->hchecksum, d, ip->src);
    incr_cksum_l4(&ip->hchecksum, d, 7, 1);
    return ip->ver == 4;
}
""", implicit_reads=False)
    b = body(r)
    for want in ("u32 d = bpf_dext_pkt(skb, (u64)ip+16, 0, 32);",
                 "bpf_dins_pkt(skb, (u64)ip+12, 0, 32, d + 1);",
                 "bpf_dins_pkt(skb, (u64)ip+8, 0, 8, bpf_dext_pkt(skb, (u64)ip+8, 0, 8) - (2));",
                 "bpf_l3_csum_replace_(skb, (u64)(&ip->hchecksum), d, "
                 "bpf_dext_pkt(skb, (u64)ip+12, 0, 32), sizeof(ip->src));",
                 "bpf_l4_csum_replace_(skb, (u64)(&ip->hchecksum), d, 7, (((1) & 0x1) << 4) | sizeof(7));",
                 "return bpf_dext_pkt(skb, (u64)ip+0, 0, 4) == 4;"):
        assert want in b, (want, b)
    assert b.count("\n") == 11


# --- unit: a program's own copies of kernel structs (redefinitions.py) ----------------

def test_struct_copies_of_kernel_structs():
    # a copy of the kernel's (a member that is gone since 5.11): the kernel's wins
    r = rw("struct mnt_namespace {\n  atomic_t count;\n  struct ns_common ns;\n};\n"
           "int f(struct mnt_namespace *m) { return m->ns.inum; }\n")
    b = body(r)
    assert b.startswith("struct mnt_namespace \n\n\n;") and "count" not in b
    # the program's own struct sock (bcc's test_clang): it wins, renamed, and
    # the kernel header's member alias of the same name is gone
    r = rw("struct sock {\n  u32 *sk_daddr;\n};\n"
           "int f(struct pt_regs *ctx, struct sock *skp) { return *(skp->sk_daddr); }\n")
    b = body(r)
    assert b.startswith("struct __pybcc_own_sock {\n  u32 *sk_daddr;\n};")
    assert "struct __pybcc_own_sock *skp" in b and "#undef sk_daddr\n" in r.c_text
    # a struct the kernel does not have is left alone
    assert body(rw("struct pybcc_mine { int a; };\n")).startswith("struct pybcc_mine { int a; };")


def test_bcc_program_limits():
    """bcc's errors: 6 arguments after the context; no calls between programs."""
    with pytest.raises(CompileError) as ei:
        rw("int many(struct pt_regs *ctx, int a, int b, int c, int d, int e, int f, int g)"
           " { return 0; }\n")
    assert "too many arguments" in str(ei.value)
    rw("int six(struct pt_regs *ctx, int a, int b, int c, int d, int e, int f) { return 0; }\n")
    with pytest.raises(CompileError) as ei:
        rw("int bar(void) {\n return 0;\n}\nint foo(struct pt_regs *ctx) {\n  return bar();\n}\n")
    assert "cannot call non-static helper function bar()" in str(ei.value) and ei.value.line == 5
    rw("static int bar(void) { return 0; }\nint foo(struct pt_regs *ctx) { return bar(); }\n")


# --- unit: functions, probes, conventions ---------------------------------------

def test_functions_and_auto_attach():
    r = rw("""
static int helper(int x) { return x; }
static inline int helper2(int x) { return x; }
int kprobe__vfs_read(struct pt_regs *ctx) { return 0; }
int kretprobe__vfs_write(struct pt_regs *ctx) { return 0; }
int tracepoint__sched__sched_switch(void *args) { return 0; }
int raw_tracepoint__sys_enter(struct bpf_raw_tracepoint_args *ctx) { return 0; }
int on_event(struct pt_regs *ctx) { return 0; }
int no_args(void) { return 0; }
RAW_TRACEPOINT_PROBE(sched_switch) { return 0; }
KFUNC_PROBE(vfs_open, const struct path *path, struct file *file) { return 0; }
KRETFUNC_PROBE(vfs_read, struct file *file, char *buf, size_t count, loff_t *pos, ssize_t ret) { return 0; }
LSM_PROBE(file_open, struct file *file) { return 0; }
KMOD_RET(do_sys_open, int dfd, const char *name) { return 0; }
MODULE_KFUNC_PROBE(kvm, kvm_vcpu_ioctl, struct file *f) { return 0; }
int kfunc__vmlinux__do_exit(u64 *ctx) { return 0; }
""")
    assert r.functions == [
        "kprobe__vfs_read", "kretprobe__vfs_write", "tracepoint__sched__sched_switch",
        "raw_tracepoint__sys_enter", "on_event", "no_args", "raw_tracepoint__sched_switch",
        "kfunc__vmlinux__vfs_open", "kretfunc__vmlinux__vfs_read", "lsm__file_open",
        "kmod_ret__do_sys_open", "kfunc__kvm__kvm_vcpu_ioctl", "kfunc__vmlinux__do_exit"]
    assert r.auto_attach == [
        ("kprobe__vfs_read", "kprobe", "vfs_read"),
        ("kretprobe__vfs_write", "kretprobe", "vfs_write"),
        ("tracepoint__sched__sched_switch", "tracepoint", "sched:sched_switch"),
        ("raw_tracepoint__sys_enter", "raw_tracepoint", "sys_enter"),
        ("raw_tracepoint__sched_switch", "raw_tracepoint", "sched_switch"),
        ("kfunc__vmlinux__vfs_open", "kfunc", "vfs_open"),
        ("kretfunc__vmlinux__vfs_read", "kretfunc", "vfs_read"),
        ("lsm__file_open", "lsm", "file_open"),
        ("kmod_ret__do_sys_open", "kmod_ret", "do_sys_open"),
        ("kfunc__kvm__kvm_vcpu_ioctl", "kfunc", "kvm:kvm_vcpu_ioctl"),
        ("kfunc__vmlinux__do_exit", "kfunc", "do_exit")]
    b = body(r)
    for f in r.functions:
        assert f'section(".bpf.fn.{f}")' in b
    assert '.bpf.fn.helper' not in b
    assert "(struct file *)ctx[1]" in b and "(ssize_t)ctx[4]" in b
    assert b.count("\n") == 16


def test_libbpf_style_programs_keep_their_sections():
    r = rewrite(r"""#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
char LICENSE[] SEC("license") = "GPL";
SEC("tracepoint/syscalls/sys_enter_getppid")
int count(void *ctx) { return 0; }
SEC("fentry/vfs_read")
int BPF_PROG(on_read, struct file *file) { return file->f_mode; }
SEC("kprobe/vfs_read")
int BPF_KPROBE(kp_read, struct file *file) { return file->f_mode; }
SEC("tp_btf/sched_switch") int tb(u64 *ctx) { struct task_struct *t = (void *)ctx[1]; return t->pid; }
SEC("xdp") int pass(struct xdp_md *ctx) { return XDP_PASS; }
""", use_cache=False)
    assert r.functions == ["count", "on_read", "kp_read", "tb", "pass"]
    assert r.auto_attach == [("count", "tracepoint", "syscalls:sys_enter_getppid"),
                             ("on_read", "kfunc", "vfs_read"), ("kp_read", "kprobe", "vfs_read"),
                             ("tb", "tp_btf", "sched_switch")]
    lines = _user_lines(r)
    assert ".bpf.fn." not in r.c_text
    assert "_PYBCC_READ" not in lines[6] and "_PYBCC_READ" not in lines[9]   # typed BTF
    assert "_PYBCC_READ(file->f_mode)" in lines[8]                            # kprobe


def test_kprobe_parameters():
    r = rw("int kprobe__do_sys_openat2(struct pt_regs *ctx, int dfd,\n"
           "    const char __user *filename, struct open_how *how) {\n  return dfd; }\n"
           "int syscall__execve(struct pt_regs *ctx, const char __user *filename,\n"
           "    const char __user *const __user *argv) { return 0; }\n")
    b = body(r)
    assert "int kprobe__do_sys_openat2(struct pt_regs *ctx\n" in b
    assert "int dfd = (int)PT_REGS_PARM1(ctx);" in b
    assert "const char *filename = (const char *)PT_REGS_PARM2(ctx);" in b, b
    assert "struct open_how *how = (struct open_how *)PT_REGS_PARM3(ctx);" in b
    # the syscall's own registers (or, compiled for a stand-in tracepoint, its record)
    assert "struct pt_regs *__pybcc_regs = __PYBCC_SYSCALL_REGS(ctx);" in b
    assert "(const char *)__PYBCC_SYSCALL_ARG(1, __pybcc_regs)" in b
    assert "__PYBCC_SYSCALL_ARG(2, __pybcc_regs)" in b
    assert b.count("\n") == 5


def test_includes_dropped_and_license():
    r = rw("#include <linux/sched.h>\n#include <net/sock.h>\n#include <uapi/linux/ptrace.h>\n"
           "#include <bcc/proto.h>\n#include \"mine.h\"\nint x;\n")
    b = body(r)
    assert "linux/sched.h" not in b and '#include "mine.h"' in b
    # <bcc/proto.h> is pybcc's own packet header, by absolute path
    assert b.startswith("\n\n\n#include \"/") and "/bcc/proto.h\"\n" in b
    assert 'SEC("license")' in r.c_text
    r = rw('char _license[] SEC("license") = "Dual BSD/GPL";\n')
    assert r.c_text.count('SEC("license")') == 1


# --- unit: tracepoint structs ------------------------------------------------------

FMT = """name: fake
ID: 1
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:unsigned char common_flags;	offset:2;	size:1;	signed:0;
	field:unsigned char common_preempt_count;	offset:3;	size:1;	signed:0;
	field:int common_pid;	offset:4;	size:4;	signed:1;

	field:int __syscall_nr;	offset:8;	size:4;	signed:1;
	field:int dfd;	offset:16;	size:8;	signed:0;
	field:const char * filename;	offset:24;	size:8;	signed:0;
	field:char comm[16];	offset:32;	size:16;	signed:0;
	field:__data_loc char[] name;	offset:48;	size:4;	signed:0;
	field:struct weird * w;	offset:52;	size:8;	signed:0;
	field:u8 bytes[3];	offset:60;	size:3;	signed:0;

print fmt: "x"
"""


def test_tracepoint_struct_layout():
    s = struct_text("cat", "ev", frozenset(), fmt=parse_format(FMT))
    assert s.startswith("struct tracepoint__cat__ev {")
    assert "__u64 dfd" in s and "const char * filename" in s and "char comm[16]" in s
    assert "__u32 data_loc_name" in s and "void * w" in s and "__u8 bytes[3]" in s
    assert "__attribute__((packed))" in s   # w at 52 is not 8-aligned
    assert "char __pad_" in s and "== 60" in s


# --- unit: implicit reads ----------------------------------------------------------

def test_insert_reads_nesting():
    text = "x = t->a->b + f(t->c);"
    b = text.index("t->a->b")
    ranges = {(b, b + len("t->a")), (b, b + len("t->a->b")),
              (text.index("t->c"), text.index("t->c") + 4)}
    assert insert_reads(text, ranges) == \
        "x = _PYBCC_READ(_PYBCC_READ(t->a)->b) + f(_PYBCC_READ(t->c));"


IMPLICIT = r"""
struct data_t { u32 pid; };
BPF_HASH(m, u32, struct data_t);
#define PARENT(t) t->real_parent
#define ID(x) x
int f(struct pt_regs *ctx) {
    struct task_struct *t = (struct task_struct *)bpf_get_current_task();
    struct data_t d = {}, *dp;
    u32 k = 0;
    d.pid = t->real_parent->tgid;
    d.pid = ID(t->pid);
    d.pid = PARENT(t)->pid;
    char *c = t->comm;
    void *a = &t->pid;
    unsigned long ip = ctx->ip;
    dp = m.lookup(&k);
    if (dp) d.pid = dp->pid;
    char c0 = t->comm[0];
    u64 vr = t->se.vruntime;
    struct pt_regs *regs = (struct pt_regs *)PT_REGS_PARM1(ctx);
    long r2 = PT_REGS_PARM2(regs) + PT_REGS_PARM1(ctx);
    u32 io = t->in_iowait + t->real_parent->in_iowait;
    int deref = (*t).pid + t[0].tgid; struct list_head lh = *(&t->tasks);
    return 0;
}
int g(struct __sk_buff *skb) { struct iphdr *ip = (void *)(long)skb->data; return ip->ttl; }
"""


def _user_lines(r):
    return body(r).split("\n")


def test_implicit_reads_from_ast():
    r = rewrite(IMPLICIT)
    lines = _user_lines(r)
    assert "_PYBCC_READ(_PYBCC_READ(t->real_parent)->tgid)" in lines[9]
    assert "ID(_PYBCC_READ(t->pid))" in lines[10]
    assert "_PYBCC_READ(_PYBCC_READ(PARENT(t))->pid)" in lines[11]
    assert "_PYBCC_READ" not in lines[12]      # array decays: address only
    assert "_PYBCC_READ" not in lines[13]      # address-of
    assert "_PYBCC_READ" not in lines[14]      # the context
    assert "_PYBCC_READ" not in lines[16]      # map value
    assert "_PYBCC_READ(t->comm[0])" in lines[17]
    assert "_PYBCC_READ(t->se.vruntime)" in lines[18]
    assert "(struct pt_regs *)PT_REGS_PARM1(ctx);" in lines[19]
    assert "_PYBCC_READ(PT_REGS_PARM2(regs)) + PT_REGS_PARM1(ctx);" in lines[20]
    assert "_PYBCC_READ_BF(t, in_iowait) + _PYBCC_READ_BF(_PYBCC_READ(t->real_parent), in_iowait)" \
        in lines[21]                           # bitfields
    assert "_PYBCC_READ((*t).pid) + _PYBCC_READ(t[0].tgid)" in lines[22]
    assert "lh = _PYBCC_READ(*(&t->tasks));" in lines[22]
    assert "_PYBCC_READ" not in lines[25]      # networking: packet/ctx access stays direct


def test_user_parameters_read_as_user_memory():
    r = rewrite("int kprobe__sys_bind(struct pt_regs *ctx, int fd, struct sockaddr __user *addr,\n"
                "    struct sockaddr *kaddr) {\n"
                "  int a = addr->sa_family;\n  int b = kaddr->sa_family;\n  return a + b; }\n",
                use_cache=False)
    lines = _user_lines(r)
    assert "_PYBCC_READ_USER(addr->sa_family)" in lines[2]
    assert "_PYBCC_READ(kaddr->sa_family)" in lines[3]


def test_printk_in_define_and_version_code():
    r = rw('#define DBG(fmt, ...) bpf_trace_printk(fmt, ##__VA_ARGS__)\n'
           'int f(void *ctx) { DBG("%d\\n", LINUX_VERSION_CODE); return 0; }\n')
    assert "#define DBG(fmt, ...) __pybcc_trace_printk(fmt, ##__VA_ARGS__)" in r.c_text
    assert "#define LINUX_VERSION_CODE KERNEL_VERSION(" in r.c_text


def test_record_types_declared_in_functions_are_not_kept():
    r = rewrite("BPF_PERF_OUTPUT(ev);\nint f(struct pt_regs *ctx) {\n"
                "  struct local_t { int x; } l = {};\n"
                "  ev.perf_submit(ctx, &l, sizeof(l)); return 0; }\n", use_cache=False)
    assert r.perf_submits == {}
    assert "__pybcc_record_type" not in r.c_text


def test_stale_precompiled_header_is_rebuilt():
    from pybcc.bcc.dialect import HEADER
    rewrite("int f(struct pt_regs *ctx) { return 0; }", use_cache=False)   # PCH exists
    st = os.stat(HEADER)
    os.utime(HEADER, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))   # same content, newer
    r = rewrite("int f(struct pt_regs *ctx) { struct task_struct *t = (void *)bpf_get_current_task();"
                " return t->pid; }", use_cache=False)
    assert "_PYBCC_READ(t->pid)" in r.c_text


def test_rewrite_cache(monkeypatch):
    from pybcc.bcc.dialect import implicit
    text = "BPF_HASH(cached_%d);\nint f(struct pt_regs *ctx) { return 0; }\n" % os.getpid()
    first = rewrite(text)
    monkeypatch.setattr(implicit, "ast_dump", lambda *a, **k: pytest.fail("clang ran on a cache hit"))
    again = rewrite(text)
    assert again == first
    assert again.tables[f"cached_{os.getpid()}"].map_type is MapType.HASH


# --- kernel tests ---------------------------------------------------------------------

def _kernel_ready():
    if os.geteuid() != 0:
        pytest.skip("needs root to use bpf(2)")


def build(text, constants=None, cflags=()):
    from pybcc.compiler import compile
    from pybcc.loader import load
    r = rewrite(text, cflags=cflags)
    obj = compile(r.c_text, cflags, filename=r.filename, line_map=r.line_map)
    coll = load(obj, programs=[], constants=constants or {})
    return r, coll


def load_fn(coll, name, section, target=""):
    sdef, _ = sections.lookup(section)
    return coll.load_program(name, sdef=sdef, target=target)


def attach_tp(prog, cat, ev):
    from pybcc.attach import attach_tracepoint
    return attach_tracepoint(prog.fd, cat, ev)


FILTER = "const volatile u32 target_tgid = 0;\n"
MINE = "if ((bpf_get_current_pid_tgid() >> 32) != target_tgid) return 0;"


@pytest.fixture
def kernel():
    _kernel_ready()
    tracefs.mount_point()
    colls = []
    yield colls
    for c in colls:
        c.close()


def test_tracepoint_probe_and_implicit_reads(kernel):
    text = FILTER + r"""
#include <linux/sched.h>
struct data_t { u32 pid; u32 ppid; char comm[TASK_COMM_LEN]; };
BPF_HASH(counts, u32);
BPF_ARRAY(last, struct data_t, 1);
BPF_PERF_OUTPUT(events);
TRACEPOINT_PROBE(syscalls, sys_enter_getppid) {
    """ + MINE + r"""
    struct task_struct *t = (struct task_struct *)bpf_get_current_task();
    struct data_t d = {};
    int zero = 0;
    d.pid = t->tgid;
    d.ppid = t->real_parent->tgid;
    bpf_get_current_comm(&d.comm, sizeof(d.comm));
    counts.increment(d.ppid);
    last.update(&zero, &d);
    events.perf_submit(args, &d, sizeof(d));
    return args->__syscall_nr == 110 ? 0 : 1;
}
"""
    r, coll = build(text, {"target_tgid": os.getpid()})
    kernel.append(coll)
    assert r.perf_submits == {"events": "struct data_t"}
    assert coll.spec.btf.find_all("data_t")        # kept in BTF for the event decoder
    p = load_fn(coll, "tracepoint__syscalls__sys_enter_getppid", "tracepoint/")
    with attach_tp(p, "syscalls", "sys_enter_getppid"):
        os.getppid()
        os.getppid()
    counts = dict(coll["counts"].items())
    assert counts == {os.getppid(): 2}
    d = coll["last"][0]
    assert (d.pid, d.ppid) == (os.getpid(), os.getppid())


def test_tracepoint_function_convention_and_user_strings(kernel):
    text = FILTER + r"""
struct path_t { char name[64]; };
BPF_ARRAY(paths, struct path_t, 1);
BPF_ARRAY(flags, u64, 1);
int tracepoint__syscalls__sys_enter_openat(struct tracepoint__syscalls__sys_enter_openat *args)
{
    """ + MINE + r"""
    int zero = 0;
    struct path_t *p = paths.lookup(&zero);
    if (!p)
        return 0;
    bpf_probe_read_user_str(p->name, sizeof(p->name), args->filename);
    u64 fl = args->flags;
    flags.update(&zero, &fl);
    return 0;
}
"""
    r, coll = build(text, {"target_tgid": os.getpid()})
    kernel.append(coll)
    assert r.auto_attach == [("tracepoint__syscalls__sys_enter_openat", "tracepoint",
                              "syscalls:sys_enter_openat")]
    p = load_fn(coll, r.functions[0], "tracepoint/")
    path = f"/tmp/pybcc-frontend-{os.getpid()}-nonexistent"
    with attach_tp(p, "syscalls", "sys_enter_openat"):
        try:
            os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            pass
    assert coll["paths"][0].name == path
    assert coll["flags"][0] == os.O_RDONLY | os.O_CLOEXEC


def test_tracepoint_data_loc(kernel):
    text = FILTER + r"""
struct exec_t { char a[32]; char b[32]; u32 pid; };
BPF_ARRAY(execs, struct exec_t, 1);
TRACEPOINT_PROBE(sched, sched_process_exec) {
    struct task_struct *t = (struct task_struct *)bpf_get_current_task();
    if (t->real_parent->tgid != target_tgid)
        return 0;
    int zero = 0;
    struct exec_t *e = execs.lookup(&zero);
    if (!e)
        return 0;
    TP_DATA_LOC_READ_STR(e->a, filename, sizeof(e->a));
    TP_DATA_LOC_READ_CONST(e->b, filename, 8);
    e->pid = args->pid;
    return 0;
}
"""
    r, coll = build(text, {"target_tgid": os.getpid()})
    kernel.append(coll)
    p = load_fn(coll, r.functions[0], "tracepoint/")
    true = "/bin/true" if os.path.exists("/bin/true") else "/usr/bin/true"
    with attach_tp(p, "sched", "sched_process_exec"):
        child = subprocess.Popen([true])
        child.wait()
    e = coll["execs"][0]
    assert e.a == true
    assert e.b[:8] == e.a[:8]
    assert e.pid == child.pid


def test_raw_tracepoint_probe(kernel):
    text = FILTER + r"""
BPF_ARRAY(hits, u64, 1);
RAW_TRACEPOINT_PROBE(sys_enter) {
    """ + MINE + r"""
    if (ctx->args[1] != 110)
        return 0;
    int zero = 0;
    u64 *v = hits.lookup(&zero);
    if (v)
        __sync_fetch_and_add(v, 1);
    return 0;
}
"""
    from pybcc.attach import attach_raw_tracepoint
    r, coll = build(text, {"target_tgid": os.getpid()})
    kernel.append(coll)
    assert r.auto_attach == [("raw_tracepoint__sys_enter", "raw_tracepoint", "sys_enter")]
    p = load_fn(coll, "raw_tracepoint__sys_enter", "raw_tracepoint/")
    with attach_raw_tracepoint(p.fd, "sys_enter"):
        for _ in range(3):
            os.getppid()
    assert coll["hits"][0] == 3


def test_map_methods_in_kernel(kernel):
    text = FILTER + r"""
struct val_t { u64 count; u64 total; };
BPF_HASH(vals, u32, struct val_t);
BPF_HASH(gone, u32, u32);
BPF_HISTOGRAM(dist);
BPF_PERCPU_ARRAY(pcpu, u64, 1);
BPF_TABLE("lru_hash", u32, u64, lru, 16);
BPF_F_TABLE("hash", u32, u64, nopre, 16, BPF_F_NO_PREALLOC);
BPF_QUEUE(queue, u32, 8);
BPF_HASH(atomics, u32, u64);
TRACEPOINT_PROBE(syscalls, sys_enter_getppid) {
    """ + MINE + r"""
    u32 k = 7, one = 1;
    struct val_t zero = {};
    struct val_t *v = vals.lookup_or_try_init(&k, &zero);
    if (v) {
        v->count++;
        v->total += 10;
    }
    gone.update(&k, &k);
    gone.delete(&k);
    dist.increment(bpf_log2l(1000));
    dist.increment(bpf_log2l(1000), 2);
    pcpu.increment(0);
    u64 x = 5;
    lru.update(&one, &x);
    nopre.insert(&one, &x);
    nopre.insert(&one, &one);
    queue.push(&k, 0);
    atomics.atomic_increment(k, 3);
    return 0;
}
"""
    r, coll = build(text, {"target_tgid": os.getpid()})
    kernel.append(coll)
    p = load_fn(coll, r.functions[0], "tracepoint/")
    with attach_tp(p, "syscalls", "sys_enter_getppid"):
        os.getppid()
        os.getppid()
    v = coll["vals"][7]
    assert (v.count, v.total) == (2, 20)
    assert dict(coll["gone"].items()) == {}
    assert coll["dist"][10] == 6          # log2l(1000) + 1 == 10, 3 per call
    assert sum(coll["pcpu"][0]) == 2
    assert dict(coll["lru"].items()) == {1: 5}
    assert dict(coll["nopre"].items()) == {1: 5}   # insert does not overwrite
    assert coll["queue"].pop() == 7
    assert dict(coll["atomics"].items()) == {7: 6}
    assert coll["nopre"].spec.flags & 1


def test_map_in_map_and_typedef_records(kernel):
    text = FILTER + r"""
typedef struct { u32 pid; u64 hits; } ev_t;
BPF_ARRAY(inner, u64, 4);
BPF_ARRAY_OF_MAPS(outer, "inner", 2);
BPF_HASH_OF_MAPS(houter, u32, "inner", 2);
BPF_PERF_OUTPUT(events);
TRACEPOINT_PROBE(syscalls, sys_enter_getppid) {
    """ + MINE + r"""
    int k = 0;
    ev_t e = {};
    void *m = outer.lookup(&k);
    if (m) {
        u64 *v = bpf_map_lookup_elem(m, &k);
        if (v)
            e.hits = *v;
    }
    events.perf_submit(args, &e, sizeof(e));
    return 0;
}
"""
    r, coll = build(text, {"target_tgid": os.getpid()})
    kernel.append(coll)
    assert r.perf_submits == {"events": "ev_t"}
    assert coll.spec.btf.find_all("ev_t")
    assert r.tables["outer"].inner_map == "inner"
    assert r.tables["houter"].map_type == MapType.HASH_OF_MAPS
    load_fn(coll, r.functions[0], "tracepoint/")
    assert coll.spec.maps["outer"].inner is not None


def test_stack_trace_and_ringbuf(kernel):
    text = FILTER + r"""
struct event_t { u32 pid; int stack; };
BPF_STACK_TRACE(stacks, 128);
BPF_RINGBUF_OUTPUT(rb, 4);
TRACEPOINT_PROBE(syscalls, sys_enter_getppid) {
    """ + MINE + r"""
    struct event_t *e = rb.ringbuf_reserve(sizeof(struct event_t));
    if (!e)
        return 0;
    e->pid = bpf_get_current_pid_tgid() >> 32;
    e->stack = stacks.get_stackid(args, 0);
    rb.ringbuf_submit(e, 0);
    return 0;
}
"""
    from pybcc.events import RingBuffer
    r, coll = build(text, {"target_tgid": os.getpid()})
    kernel.append(coll)
    assert r.perf_submits == {"rb": "struct event_t"}
    p = load_fn(coll, r.functions[0], "tracepoint/")
    with attach_tp(p, "syscalls", "sys_enter_getppid"):
        os.getppid()
    ring = RingBuffer(coll.map_fds["rb"])
    try:
        recs = ring.read_batch() if hasattr(ring, "read_batch") else []
        if not recs:
            ring.poll(100)
            recs = ring.read_batch()
    finally:
        ring.close()
    assert len(recs) == 1
    pid, stack = struct.unpack_from("<Ii", recs[0])
    assert pid == os.getpid() and stack >= 0
    assert stack in dict(coll["stacks"].items())


def test_printk_program_loads(kernel):
    text = FILTER + r"""
TRACEPOINT_PROBE(syscalls, sys_enter_getppid) {
    """ + MINE + r"""
    bpf_trace_printk("pybcc getppid %d %s\n", args->__syscall_nr, "x");
    return 0;
}
"""
    r, coll = build(text, {"target_tgid": os.getpid()})
    kernel.append(coll)
    p = load_fn(coll, r.functions[0], "tracepoint/")
    with attach_tp(p, "syscalls", "sys_enter_getppid"):
        os.getppid()


def test_compiler_errors_name_user_lines(kernel):
    from pybcc.compiler import compile
    text = "BPF_HASH(h);\n\nint f(struct pt_regs *ctx) {\n  u32 k = 0;\n  h.update(&k, &k);\n  return undefined_thing;\n}\n"
    r = rewrite(text)
    with pytest.raises(CompileError) as ei:
        compile(r.c_text, filename=r.filename, line_map=r.line_map)
    assert ei.value.line == 6
    assert "<text>:6" in str(ei.value) and "undefined_thing" in str(ei.value)


def test_tracepoint_missing(kernel):
    with pytest.raises(CompileError) as ei:
        rewrite("\nTRACEPOINT_PROBE(nosuchcat, nosuchevent) { return 0; }\n")
    assert ei.value.line == 2 and "nosuchcat:nosuchevent" in str(ei.value)


# bcc tools' programs (kprobe ones are loaded, not attached: the verifier
# accepts or rejects the implicit reads without needing kprobes).
EXECSNOOP = r"""
#include <uapi/linux/ptrace.h>
#include <linux/sched.h>
#include <linux/fs.h>

#define ARGSIZE  128

enum event_type {
    EVENT_ARG,
    EVENT_RET,
};

struct data_t {
    u32 pid;  // PID as in the userspace term (i.e. task->tgid in kernel)
    u32 ppid; // Parent PID as in the userspace term (i.e task->real_parent->tgid in kernel)
    u32 uid;
    char comm[TASK_COMM_LEN];
    enum event_type type;
    char argv[ARGSIZE];
    int retval;
};

BPF_PERF_OUTPUT(events);

static int __submit_arg(struct pt_regs *ctx, void *ptr, struct data_t *data)
{
    bpf_probe_read_user(data->argv, sizeof(data->argv), ptr);
    events.perf_submit(ctx, data, sizeof(struct data_t));
    return 1;
}

static int submit_arg(struct pt_regs *ctx, void *ptr, struct data_t *data)
{
    const char *argp = NULL;
    bpf_probe_read_user(&argp, sizeof(argp), ptr);
    if (argp) {
        return __submit_arg(ctx, (void *)(argp), data);
    }
    return 0;
}

int syscall__execve(struct pt_regs *ctx,
    const char __user *filename,
    const char __user *const __user *__argv,
    const char __user *const __user *__envp)
{
    u32 uid = bpf_get_current_uid_gid() & 0xffffffff;
    // create data here and pass to submit_arg to save stack space (#555)
    struct data_t data = {};
    struct task_struct *task;

    data.pid = bpf_get_current_pid_tgid() >> 32;

    task = (struct task_struct *)bpf_get_current_task();
    // Some kernels, like Ubuntu 4.13.0-generic, return 0
    // as the real_parent->tgid.
    // We use the get_ppid function as a fallback in those cases. (#1883)
    data.ppid = task->real_parent->tgid;

    bpf_get_current_comm(&data.comm, sizeof(data.comm));
    data.type = EVENT_ARG;

    __submit_arg(ctx, (void *)filename, &data);

    // skip first arg, as we submitted filename
    #pragma unroll
    for (int i = 1; i < 20; i++) {
        if (submit_arg(ctx, (void *)&__argv[i], &data) == 0)
             goto out;
    }

    // handle truncated argument list
    char ellipsis[] = "...";
    __submit_arg(ctx, (void *)ellipsis, &data);
out:
    return 0;
}

int do_ret_sys_execve(struct pt_regs *ctx)
{
    struct data_t data = {};
    struct task_struct *task;

    u32 uid = bpf_get_current_uid_gid() & 0xffffffff;
    data.pid = bpf_get_current_pid_tgid() >> 32;
    data.uid = uid;

    task = (struct task_struct *)bpf_get_current_task();
    data.ppid = task->real_parent->tgid;

    bpf_get_current_comm(&data.comm, sizeof(data.comm));
    data.type = EVENT_RET;
    data.retval = PT_REGS_RC(ctx);
    events.perf_submit(ctx, &data, sizeof(data));

    return 0;
}
"""

TCPCONNECT = r"""
#include <uapi/linux/ptrace.h>
#include <net/sock.h>
#include <bcc/proto.h>

BPF_HASH(currsock, u32, struct sock *);

// separate data structs for ipv4 and ipv6
struct ipv4_data_t {
    u64 ts_us;
    u32 pid;
    u32 uid;
    u32 saddr;
    u32 daddr;
    u64 ip;
    u16 lport;
    u16 dport;
    char task[TASK_COMM_LEN];
};
BPF_PERF_OUTPUT(ipv4_events);

struct ipv6_data_t {
    u64 ts_us;
    u32 pid;
    u32 uid;
    unsigned __int128 saddr;
    unsigned __int128 daddr;
    u64 ip;
    u16 lport;
    u16 dport;
    char task[TASK_COMM_LEN];
};
BPF_PERF_OUTPUT(ipv6_events);

// separate flow keys per address family
struct ipv4_flow_key_t {
    u32 saddr;
    u32 daddr;
    u16 dport;
};
BPF_HASH(ipv4_count, struct ipv4_flow_key_t);

int trace_connect_entry(struct pt_regs *ctx, struct sock *sk)
{
    u64 pid_tgid = bpf_get_current_pid_tgid();
    u32 pid = pid_tgid >> 32;
    u32 tid = pid_tgid;
    u32 uid = bpf_get_current_uid_gid();
    currsock.update(&tid, &sk);
    return 0;
};

static int trace_connect_return(struct pt_regs *ctx, short ipver)
{
    int ret = PT_REGS_RC(ctx);
    u64 pid_tgid = bpf_get_current_pid_tgid();
    u32 pid = pid_tgid >> 32;
    u32 tid = pid_tgid;

    struct sock **skpp;
    skpp = currsock.lookup(&tid);
    if (skpp == 0) {
        return 0;   // missed entry
    }

    if (ret != 0) {
        currsock.delete(&tid);
        return 0;
    }

    // pull in details
    struct sock *skp = *skpp;
    u16 lport = skp->__sk_common.skc_num;
    u16 dport = skp->__sk_common.skc_dport;

    if (ipver == 4) {
        struct ipv4_data_t data4 = {.pid = pid, .ip = ipver};
        data4.uid = bpf_get_current_uid_gid();
        data4.ts_us = bpf_ktime_get_ns() / 1000;
        data4.saddr = skp->__sk_common.skc_rcv_saddr;
        data4.daddr = skp->__sk_common.skc_daddr;
        data4.lport = lport;
        data4.dport = ntohs(dport);
        bpf_get_current_comm(&data4.task, sizeof(data4.task));
        ipv4_events.perf_submit(ctx, &data4, sizeof(data4));
    } else {
        struct ipv6_data_t data6 = {.pid = pid, .ip = ipver};
        data6.uid = bpf_get_current_uid_gid();
        data6.ts_us = bpf_ktime_get_ns() / 1000;
        bpf_probe_read_kernel(&data6.saddr, sizeof(data6.saddr),
            skp->__sk_common.skc_v6_rcv_saddr.in6_u.u6_addr32);
        bpf_probe_read_kernel(&data6.daddr, sizeof(data6.daddr),
            skp->__sk_common.skc_v6_daddr.in6_u.u6_addr32);
        data6.lport = lport;
        data6.dport = ntohs(dport);
        bpf_get_current_comm(&data6.task, sizeof(data6.task));
        ipv6_events.perf_submit(ctx, &data6, sizeof(data6));
    }

    currsock.delete(&tid);

    return 0;
}

int trace_connect_v4_return(struct pt_regs *ctx)
{
    return trace_connect_return(ctx, 4);
}

int trace_connect_v6_return(struct pt_regs *ctx)
{
    return trace_connect_return(ctx, 6);
}
"""

BIOLATENCY = r"""
#include <uapi/linux/ptrace.h>
#include <linux/blk-mq.h>

typedef struct disk_key {
    char disk[DISK_NAME_LEN];
    u64 slot;
} disk_key_t;

typedef struct flag_key {
    u64 flags;
    u64 slot;
} flag_key_t;

typedef struct ext_val {
    u64 total;
    u64 count;
} ext_val_t;

struct start_key {
    dev_t dev;
    u32 _pad;
    sector_t sector;
};

BPF_HASH(start, struct request *);
BPF_HISTOGRAM(dist, disk_key_t);

// time block I/O
int trace_req_start(struct pt_regs *ctx, struct request *req)
{
    u64 ts = bpf_ktime_get_ns();
    start.update(&req, &ts);
    return 0;
}

// output
int trace_req_done(struct pt_regs *ctx, struct request *req)
{
    u64 *tsp, delta;

    // fetch timestamp and calculate delta
    tsp = start.lookup(&req);
    if (tsp == 0) {
        return 0;   // missed issue
    }
    delta = bpf_ktime_get_ns() - *tsp;
    delta /= 1000;

    // store as histogram
    disk_key_t key = {.slot = bpf_log2l(delta)};
    void *__tmp = (void *)req->q->disk->disk_name;
    bpf_probe_read_kernel(&key.disk, sizeof(key.disk), __tmp);
    dist.atomic_increment(key);

    start.delete(&req);
    return 0;
}
"""


@pytest.mark.parametrize("prog", ["EXECSNOOP", "TCPCONNECT", "BIOLATENCY", "IMPLICIT"])
def test_bcc_tool_programs_load(kernel, prog):
    r, coll = build(globals()[prog])
    kernel.append(coll)
    for f in r.functions:
        if f == "g":
            continue        # the socket-filter half of IMPLICIT
        load_fn(coll, f, "kprobe/")
    if prog == "EXECSNOOP":
        assert r.perf_submits == {"events": "struct data_t"}


# --- VM tests: kprobes, fentry, LSM -----------------------------------------------

IN_VM = os.environ.get("PYBCC_VMTEST") == "1"


def need(cond, why):
    """Skip on kernels without the feature; inside the test VM that is a failure."""
    if not cond:
        if IN_VM:
            pytest.fail(why + " (inside the test VM)")
        pytest.skip(why)


@pytest.mark.vm
def test_kprobe_typed_args(kernel):
    need(features.has_kprobes(), "kprobes are not available on this kernel")
    from pybcc.attach import attach_kprobe
    text = FILTER + r"""
struct path_t { char name[64]; u64 flags; };
BPF_ARRAY(paths, struct path_t, 1);
int kprobe__do_sys_openat2(struct pt_regs *ctx, int dfd, const char __user *filename,
                           struct open_how *how)
{
    """ + MINE + r"""
    int zero = 0;
    struct path_t *p = paths.lookup(&zero);
    if (!p)
        return 0;
    bpf_probe_read_user_str(p->name, sizeof(p->name), filename);
    p->flags = how->flags;
    return 0;
}
"""
    r, coll = build(text, {"target_tgid": os.getpid()})
    kernel.append(coll)
    p = load_fn(coll, r.functions[0], "kprobe/")
    path = f"/tmp/pybcc-frontend-kp-{os.getpid()}"
    with attach_kprobe(p.fd, "do_sys_openat2"):
        try:
            os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            pass
    got = coll["paths"][0]
    assert got.name == path
    assert got.flags & ~O_LARGEFILE == os.O_RDONLY | os.O_CLOEXEC   # the kernel adds O_LARGEFILE


@pytest.mark.vm
def test_syscall_wrapper_args(kernel):
    need(features.has_kprobes(), "kprobes are not available on this kernel")
    from pybcc.attach import attach_kprobe
    from pybcc.attach.kprobe import syscall_function
    text = FILTER + r"""
struct path_t { char name[64]; u64 flags; };
BPF_ARRAY(paths, struct path_t, 1);
int syscall__openat(struct pt_regs *ctx, int dfd, const char __user *filename, int flags)
{
    """ + MINE + r"""
    int zero = 0;
    struct path_t *p = paths.lookup(&zero);
    if (!p)
        return 0;
    bpf_probe_read_user_str(p->name, sizeof(p->name), filename);
    p->flags = flags;
    return 0;
}
"""
    r, coll = build(text, {"target_tgid": os.getpid()})
    kernel.append(coll)
    p = load_fn(coll, r.functions[0], "kprobe/")
    path = f"/tmp/pybcc-frontend-sc-{os.getpid()}"
    with attach_kprobe(p.fd, syscall_function("openat")):
        try:
            os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            pass
    got = coll["paths"][0]
    assert got.name == path
    assert got.flags == os.O_RDONLY | os.O_CLOEXEC


@pytest.mark.vm
def test_kfunc_probe_typed_args(kernel):
    need(features.has_fentry(), "fentry is not available on this kernel")
    from pybcc.attach import attach_fentry
    text = FILTER + r"""
struct path_t { char name[64]; u64 flags; };
BPF_ARRAY(paths, struct path_t, 1);
KFUNC_PROBE(do_sys_openat2, int dfd, const char *filename, struct open_how *how)
{
    """ + MINE + r"""
    int zero = 0;
    struct path_t *p = paths.lookup(&zero);
    if (!p)
        return 0;
    bpf_probe_read_user_str(p->name, sizeof(p->name), filename);
    p->flags = how->flags;
    return 0;
}
"""
    r, coll = build(text, {"target_tgid": os.getpid()})
    kernel.append(coll)
    assert r.auto_attach == [("kfunc__vmlinux__do_sys_openat2", "kfunc", "do_sys_openat2")]
    p = load_fn(coll, r.functions[0], "fentry/", "do_sys_openat2")
    path = f"/tmp/pybcc-frontend-kf-{os.getpid()}"
    with attach_fentry(p.fd, "do_sys_openat2"):
        try:
            os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            pass
    got = coll["paths"][0]
    assert got.name == path
    assert got.flags & ~O_LARGEFILE == os.O_RDONLY | os.O_CLOEXEC   # the kernel adds O_LARGEFILE


@pytest.mark.vm
def test_kretfunc_probe_return_value(kernel):
    need(features.has_fentry(), "fexit is not available on this kernel")
    from pybcc.attach import attach_fexit
    text = FILTER + r"""
BPF_ARRAY(rets, long, 1);
KRETFUNC_PROBE(do_sys_openat2, int dfd, const char *filename, struct open_how *how, long ret)
{
    """ + MINE + r"""
    int zero = 0;
    rets.update(&zero, &ret);
    return 0;
}
"""
    r, coll = build(text, {"target_tgid": os.getpid()})
    kernel.append(coll)
    p = load_fn(coll, r.functions[0], "fexit/", "do_sys_openat2")
    with attach_fexit(p.fd, "do_sys_openat2"):
        try:
            os.open(f"/tmp/pybcc-frontend-kr-{os.getpid()}", os.O_RDONLY)
        except FileNotFoundError:
            pass
    assert coll["rets"][0] == -2      # -ENOENT


@pytest.mark.vm
def test_lsm_probe_counts_and_denies():
    """LSM_PROBE through bcc's API: auto-attached to the hook, typed hook
    arguments, and the return value is the verdict (-EPERM denies the open)."""
    need(features.has_lsm(), "BPF LSM is not enabled on this kernel "
                             "(CONFIG_BPF_LSM and 'bpf' in lsm=)")
    # With CONFIG_BPF_LSM=y but "bpf" not in lsm=, LSM programs load and
    # attach (has_lsm() is True) and then never run.
    try:
        with open("/sys/kernel/security/lsm") as f:
            lsms = f.read().strip().split(",")
    except OSError:
        lsms = None
    need(lsms is None or "bpf" in lsms, f"'bpf' is not among the active LSMs: {lsms}")
    from pybcc import BPF
    # /dev/null, not a file under /tmp: in the VM / is an overlay, and opening
    # an overlay file runs file_open twice (overlay file, then the real one).
    path = "/dev/null"
    text = r"""
struct seen_t { char name[64]; u64 count; };
BPF_ARRAY(seen, struct seen_t, 1);
BPF_ARRAY(deny, u32, 1);
LSM_PROBE(file_open, struct file *file)
{
    if ((bpf_get_current_pid_tgid() >> 32) != TGID)
        return 0;
    int zero = 0;
    struct seen_t *s = seen.lookup(&zero);
    if (s) {
        s->count++;
        bpf_probe_read_kernel_str(s->name, sizeof(s->name), file->f_path.dentry->d_name.name);
    }
    u32 *d = deny.lookup(&zero);
    return d && *d ? -EPERM : 0;
}
""".replace("TGID", str(os.getpid()))
    with BPF(text=text) as b:
        seen, deny = b["seen"], b["deny"]
        before = seen[ctypes.c_int(0)].count
        os.close(os.open(path, os.O_RDONLY))
        got = seen[ctypes.c_int(0)]
        assert got.count == before + 1
        assert got.name == b"null"
        deny[ctypes.c_int(0)] = ctypes.c_uint32(1)
        try:
            with pytest.raises(PermissionError):
                os.open(path, os.O_RDONLY)
        finally:
            deny[ctypes.c_int(0)] = ctypes.c_uint32(0)
        assert seen[ctypes.c_int(0)].count == before + 2
        os.close(os.open(path, os.O_RDONLY))      # allowed again
    os.close(os.open(path, os.O_RDONLY))          # detached with the BPF object


def test_conditionals_decided_by_the_preprocessor():
    """A table declared in both branches of an #ifdef, a probe under #if:
    only what the preprocessor keeps exists (ppchcalls, syscount, ucalls)."""
    text = """
#include <linux/sched.h>
#define MODE 2
#ifdef FOO
BPF_HASH(t, u32, u64);
int kprobe__vfs_read(struct pt_regs *ctx) { return 0; }
#else
BPF_ARRAY(t, u64, 4);
#if MODE == 2 && LINUX_VERSION_CODE >= KERNEL_VERSION(4, 0, 0)
TRACEPOINT_PROBE(sched, sched_switch) { return 0; }
#elif MODE == 3
int kprobe__vfs_write(struct pt_regs *ctx) { return 0; }
#endif
#endif
"""
    r = rewrite(text, use_cache=False)
    assert r.functions == ["tracepoint__sched__sched_switch"]
    assert [a[1] for a in r.auto_attach] == ["tracepoint"]
    assert r.tables["t"].map_type.name == "ARRAY"
    assert r.c_text.count("\n") >= text.count("\n")        # lines kept for messages
    r = rewrite(text, cflags=("-DFOO",), use_cache=False)
    assert r.functions == ["kprobe__vfs_read"] and r.tables["t"].map_type.name == "HASH"


POINTERS_FROM_KERNEL = """
struct cfs_rq_partial { struct load_weight load; unsigned int nr_running, h_nr_running; };
static inline struct tcphdr *skb_to_tcphdr(const struct sk_buff *skb)
{
    return (struct tcphdr *)(skb->head + skb->transport_header);
}
BPF_ARRAY(out, u64, 2);
TRACEPOINT_PROBE(sched, sched_switch)
{
    struct task_struct *task = (struct task_struct *)bpf_get_current_task();
    struct cfs_rq_partial *my_q = NULL;
    my_q = (struct cfs_rq_partial *)task->se.cfs_rq;
    u64 len = my_q->nr_running;
    int k = 0;
    out.update(&k, &len);
    return 0;
}
int on_skb(struct pt_regs *ctx, struct sock *sk, struct sk_buff *skb)
{
    struct tcphdr *tcp = skb_to_tcphdr(skb);
    u64 flags = ((u_int8_t *)tcp)[13];
    int k = 1;
    out.update(&k, &flags);
    return 0;
}
"""


def test_implicit_reads_through_pointers_from_kernel_memory():
    """A pointer taken from kernel memory (task->se.cfs_rq into the script's
    own struct) or from the program's own function (skb_to_tcphdr) is kernel
    memory too (cpuunclaimed, runqlen, tcpdrop)."""
    lines = _user_lines(rewrite(POINTERS_FROM_KERNEL))
    assert "_PYBCC_READ(task->se.cfs_rq)" in lines[11]
    assert "_PYBCC_READ(my_q->nr_running)" in lines[12]
    assert "_PYBCC_READ(((u_int8_t *)tcp)[13])" in lines[20]


def test_implicit_reads_through_pointers_load(root):
    from pybcc.bcc import BPF
    b = BPF(text=POINTERS_FROM_KERNEL)
    try:
        b.load_func("tracepoint__sched__sched_switch", BPF.TRACEPOINT)   # the verifier agrees
        b.load_func("on_skb", BPF.KPROBE)
    finally:
        b.cleanup()


ADDRESS_ARITHMETIC = """
BPF_ARRAY(out, u64, 2);
int on_bind(struct pt_regs *ctx, struct sock *skp)
{
    struct inet_sock *sockp = (struct inet_sock *)skp;
    u64 bits = *(&sockp->rcv_tos - 2) & 0xFF;
    u64 protocol = *(u8 *)((u64)&skp->sk_wmem_queued - 3);
    u64 saddr = sockp->inet_rcv_saddr;
    int k = 0;
    out.update(&k, &bits);
    k = 1;
    out.update(&k, &protocol);
    out.update(&k, &saddr);
    return 0;
}
"""


def test_implicit_reads_at_an_offset_from_kernel_memory(root):
    """bindsnoop reads bitfields through the address of the next member, as
    a pointer or as an integer: both are kernel memory. A member alias
    (inet_rcv_saddr, a macro in kernel headers) is read too (solisten)."""
    lines = _user_lines(rewrite(ADDRESS_ARITHMETIC))
    assert "_PYBCC_READ(*(&sockp->rcv_tos - 2))" in lines[5]
    assert "_PYBCC_READ(*(u8 *)((u64)&skp->sk_wmem_queued - 3))" in lines[6]
    assert "_PYBCC_READ(sockp->inet_rcv_saddr)" in lines[7]
    from pybcc.bcc import BPF
    b = BPF(text=ADDRESS_ARITHMETIC)
    try:
        b.load_func("on_bind", BPF.KPROBE)     # the verifier agrees
    finally:
        b.cleanup()
