"""CO-RE relocations: .BTF.ext parsing and relocation against real BTF,
checked against libbpf as the oracle.

Each C program below is compiled with clang, relocated by pybcc and by
libbpf (a tiny C driver linked with the system libbpf opens the object,
loads it and prints its debug log and the relocated instructions). Every
relocation's decision (new value, memory size, poisoning) and every
instruction of each program must agree.
"""
import os
import re
import shutil
import subprocess
import sys

import pytest
from elftools.elf.elffile import ELFFile

from pybcc import asm
from pybcc.btf import core
from pybcc.btf.ext import BTFExt
from pybcc.btf.types import BTF
from pybcc.errors import LoadError

CLANG = shutil.which("clang-16") or shutil.which("clang")
needs_clang = pytest.mark.skipif(CLANG is None, reason="clang not installed")

PRELUDE = r"""
typedef signed char __s8; typedef unsigned char __u8;
typedef short __s16; typedef unsigned short __u16;
typedef int __s32; typedef unsigned int __u32;
typedef long long __s64; typedef unsigned long long __u64;
typedef __u16 __be16; typedef __u32 __be32; typedef __u64 __be64; typedef __u32 __wsum;
typedef int pid_t;
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#define PAI __attribute__((preserve_access_index))
#define signed_of(f) __builtin_preserve_field_info(f, BPF_FIELD_SIGNED)
__u64 out[128];
"""

# Kernel structs, seen through hand-made definitions with other layouts.
KERNEL_SRC = PRELUDE + r"""
struct task_struct___old {
	int pad;
	pid_t pid;
	pid_t tgid;
	struct task_struct___old *real_parent;
	char comm[8];
	__u64 flags;              /* u32 in the kernel: load 8 -> 4 bytes */
	unsigned short __state;   /* u32 in the kernel: load 2 -> 4 bytes */
	long prio;                /* int in the kernel: signed, so poisoned */
	__u64 no_such_field;
	unsigned int in_execve:1;
	unsigned int init_private_fork_class:4;
	unsigned int sched_migrated:1;
	struct sighand_struct___x *sighand;
} PAI;

struct task_struct___v2 { int x; pid_t tgid; struct { int y; pid_t pid; }; } PAI;

struct sigaction___x { unsigned long sa_flags; void *sa_handler; } PAI;
struct k_sigaction___x { struct sigaction___x sa; } PAI;
struct sighand_struct___x { int pad[3]; struct k_sigaction___x action[64]; } PAI;

struct sk_buff___x {
	unsigned int len;
	struct sk_buff___x *next;
	__u8 cloned:1, nohdr:1, fclone:2, peeked:1;
} PAI;

struct list_head___m { struct list_head___m *next, *prev; } PAI;
struct list_head___bad { int next; } PAI;

enum pid_type___x { PIDTYPE_TGID___x = 7, PIDTYPE_PID___x = 5, PIDTYPE_NONEXIST = 9 };
enum perf_callchain_context___x { PERF_CONTEXT_HV___x = 1, PERF_CONTEXT_USER___x = 2 };
enum perf_event_state___x { PERF_EVENT_STATE_DEAD___x = 3, PERF_EVENT_STATE_ACTIVE___x = 4 };
struct perf_event___x { enum perf_event_state___x state; } PAI;
struct no_such_struct { int a; } PAI;
typedef unsigned long long pid_t___wide;

static __attribute__((noinline)) int subprog(struct task_struct___old *t)
{
	return t->tgid + bpf_core_field_size(t->comm);
}

SEC("raw_tracepoint/sys_enter")
int fields(void *ctx)
{
	struct task_struct___old *t = (void *)bpf_get_current_task();
	int i = 0;
	out[i++] = t->pid;
	out[i++] = t->real_parent->tgid;
	out[i++] = t->flags;
	out[i++] = t->__state;
	out[i++] = bpf_core_field_size(t->comm);
	out[i++] = bpf_core_field_offset(t->comm[3]);
	out[i++] = bpf_core_field_exists(t->no_such_field);
	out[i++] = bpf_core_field_exists(t->tgid);
	out[i++] = signed_of(t->pid);
	out[i++] = signed_of(t->flags);
	if (bpf_core_field_exists(t->no_such_field))
		out[i++] = t->no_such_field;
	out[i++] = BPF_CORE_READ(t, sighand, action[5].sa.sa_flags);
	out[i++] = bpf_core_field_offset(t->sighand->action[7].sa.sa_handler);
	out[i++] = bpf_core_field_size(t->sighand->action[7]);
	out[i++] = bpf_core_field_size(t->sighand->action);
	out[i++] = bpf_core_field_exists(t->sighand->pad[1]);
	struct task_struct___v2 *t2 = (void *)t;
	out[i++] = t2->pid + t2->tgid;
	out[i++] = __builtin_preserve_access_index(&t2[2].tgid) - (int *)0;
	struct perf_event___x *pe = (void *)t;
	out[i++] = signed_of(pe->state);
	out[i++] = bpf_core_field_size(pe->state);
	out[i++] = subprog(t);
	return 0;
}

SEC("raw_tracepoint/sys_enter")
int bitfields(void *ctx)
{
	struct task_struct___old *t = (void *)bpf_get_current_task();
	struct sk_buff___x *s = (void *)t;
	int i = 0;
	out[i++] = BPF_CORE_READ_BITFIELD_PROBED(t, in_execve);
	out[i++] = BPF_CORE_READ_BITFIELD_PROBED(t, init_private_fork_class);
	out[i++] = BPF_CORE_READ_BITFIELD_PROBED(t, sched_migrated);
	out[i++] = BPF_CORE_READ_BITFIELD_PROBED(s, fclone);
	out[i++] = BPF_CORE_READ_BITFIELD_PROBED(s, peeked);
	out[i++] = bpf_core_field_offset(s->next);
	return 0;
}

SEC("raw_tracepoint/sys_exit")
int types(void *ctx)
{
	int i = 0;
	out[i++] = bpf_core_type_exists(struct task_struct___old);
	out[i++] = bpf_core_type_exists(struct no_such_struct);
	out[i++] = bpf_core_type_size(struct task_struct___old);
	out[i++] = bpf_core_type_size(struct no_such_struct);
	out[i++] = bpf_core_type_id_kernel(struct task_struct___old);
	out[i++] = bpf_core_type_id_kernel(struct no_such_struct);
	out[i++] = bpf_core_type_id_local(struct task_struct___old);
	out[i++] = bpf_core_type_matches(struct sk_buff___x);
	out[i++] = bpf_core_type_matches(struct list_head___m);
	out[i++] = bpf_core_type_matches(struct list_head___bad);
	out[i++] = bpf_core_type_exists(pid_t);
	out[i++] = bpf_core_type_size(pid_t___wide);
	out[i++] = bpf_core_type_matches(pid_t___wide);
	out[i++] = bpf_core_type_id_kernel(int);
	out[i++] = bpf_core_type_exists(union no_such_union___a);
	return 0;
}

SEC("raw_tracepoint/sys_exit")
int enums(void *ctx)
{
	int i = 0;
	out[i++] = bpf_core_enum_value_exists(enum pid_type___x, PIDTYPE_NONEXIST);
	out[i++] = bpf_core_enum_value_exists(enum pid_type___x, PIDTYPE_PID___x);
	out[i++] = bpf_core_enum_value(enum pid_type___x, PIDTYPE_TGID___x);
	out[i++] = bpf_core_enum_value(enum perf_callchain_context___x, PERF_CONTEXT_HV___x);
	out[i++] = bpf_core_enum_value(enum perf_callchain_context___x, PERF_CONTEXT_USER___x);
	out[i++] = bpf_core_enum_value(enum perf_event_state___x, PERF_EVENT_STATE_DEAD___x);
	out[i++] = bpf_core_enum_value(enum perf_event_state___x, PERF_EVENT_STATE_ACTIVE___x);
	out[i++] = bpf_core_type_matches(enum perf_event_state___x);
	return 0;
}

SEC("raw_tracepoint/sys_exit")
int poisoned(void *ctx)
{
	struct task_struct___old *t = (void *)bpf_get_current_task();
	out[0] = t->prio;
	out[1] = bpf_core_enum_value(enum pid_type___x, PIDTYPE_NONEXIST);
	return 0;
}
"""

# A made-up "target kernel" (its BTF is given to both libbpf and pybcc),
# for cases the running kernel's BTF cannot show.
TARGET_SRC = r"""
struct __attribute__((packed)) bits { unsigned char a:6; unsigned char b:4; unsigned long long c:60; };
struct two { int a; int b; };
struct two___v2 { int b; int a; };
struct same { int a; long b; };
struct same___v2 { int a; long b; };
struct flex { int n; int data[]; };
union un { int i; long l; };
struct kinds { int e; struct two s; int arr[4]; long long l; char c; int *p; };
enum big { BIG_A = 0x100000000ULL, BIG_B = -2LL };
enum uns { UNS_HI = 0xfffffff0U, UNS_LO = 2 };
enum uns g_uns;
struct widen { long pad; unsigned long long v; unsigned short w; } g_widen;
enum sgn { SGN_M = -1, SGN_P = 1 };
struct bits g_bits; struct two g_two; struct two___v2 g_two2; struct same g_same;
struct same___v2 g_same2; struct flex g_flex; union un g_un; struct kinds g_kinds;
enum big g_big; enum sgn g_sgn;
"""

CUSTOM_SRC = PRELUDE + r"""
struct bits___l { unsigned char a:6; unsigned char b:4; unsigned long long c:60; } PAI;
struct same { int a; long b; } PAI;
struct flex { int n; int data[]; } PAI;
union un { int i; long l; } PAI;
struct un___s { int i; } PAI;
enum big___l { BIG_A___l = 1, BIG_B___l = 2 };
enum sgn___l { SGN_M___l = 1, SGN_P___l = 2 };
enum e___k { E_ONE = 1 };
struct widen___l { unsigned int v; unsigned int w; } PAI;
struct kinds___l { enum e___k e; union { int a; } s; int arr[2]; unsigned int l; char c; long p; } PAI;

SEC("raw_tracepoint/sys_enter")
int custom(void *ctx)
{
	struct bits___l *b = (void *)bpf_get_current_task();
	struct same *sm = (void *)b;
	struct flex *fl = (void *)b;
	union un *u = (void *)b;
	struct kinds___l *k = (void *)b;
	int i = 0;
	out[i++] = BPF_CORE_READ_BITFIELD_PROBED(b, a);
	out[i++] = BPF_CORE_READ_BITFIELD_PROBED(b, b);
	out[i++] = bpf_core_field_exists(b->c);
	out[i++] = sm->b;
	out[i++] = bpf_core_field_offset(fl->data[5]);
	out[i++] = u->l;
	out[i++] = bpf_core_type_exists(struct un___s);
	out[i++] = bpf_core_enum_value(enum big___l, BIG_A___l);
	out[i++] = bpf_core_enum_value(enum big___l, BIG_B___l);
	out[i++] = bpf_core_enum_value(enum sgn___l, SGN_M___l);
	out[i++] = bpf_core_field_exists(k->e);
	out[i++] = bpf_core_field_exists(k->s.a);
	out[i++] = bpf_core_field_offset(k->arr[1]);
	out[i++] = k->l;
	out[i++] = k->c;
	out[i++] = bpf_core_field_exists(k->p);
	struct widen___l *w = (void *)b;
	out[i++] = w->v;          /* 4 -> 8 byte load */
	w->w = 3;                 /* ST: 4 -> 2 byte store */
	w->v = out[1];            /* STX */
	sm->a = 7;
	return 0;
}
"""

# Each of these must be refused (libbpf fails the whole load).
ERROR_SRCS = {
    "ambiguous": r"""
struct two___l { int a; } PAI;
SEC("raw_tracepoint/sys_enter")
int ambiguous(void *ctx) { struct two___l *p = (void *)bpf_get_current_task(); out[0] = p->a; return 0; }
""",
    "bitfield_too_wide": r"""
struct bits___w { unsigned char a:6; unsigned char b:4; unsigned long long c:60; } PAI;
SEC("raw_tracepoint/sys_enter")
int bitfield_too_wide(void *ctx) { struct bits___w *p = (void *)bpf_get_current_task();
	out[0] = bpf_core_field_offset(p->c); return 0; }
""",
}


# Ordinary tracing code against a real vmlinux.h (another kernel's): the
# kind of program pybcc's tools are.
VMLINUX_SRC = r"""
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct task_struct___pre514 { long state; } __attribute__((preserve_access_index));
struct inode___pre66 { struct timespec64 i_ctime; } __attribute__((preserve_access_index));
struct inode___v611 { time64_t i_ctime_sec; } __attribute__((preserve_access_index));
__u64 out[64];

SEC("raw_tracepoint/sys_enter")
int tracer(void *ctx)
{
	struct task_struct *t = (void *)bpf_get_current_task();
	struct file *f = (void *)t;
	struct sock *sk = (void *)t;
	struct sk_buff *skb = (void *)t;
	struct inode *ino = (void *)t;
	int i = 0;
	out[i++] = BPF_CORE_READ(t, real_parent, tgid);
	out[i++] = BPF_CORE_READ(t, mm, arg_start);
	out[i++] = BPF_CORE_READ(t, nsproxy, pid_ns_for_children, ns.inum);
	out[i++] = (__u64)BPF_CORE_READ(f, f_path.dentry, d_name.name);
	out[i++] = BPF_CORE_READ(sk, __sk_common.skc_dport);
	out[i++] = BPF_CORE_READ(sk, sk_protocol);
	out[i++] = BPF_CORE_READ(ino, i_sb, s_dev);
	out[i++] = BPF_CORE_READ(skb, len);
	out[i++] = BPF_CORE_READ_BITFIELD_PROBED(skb, pkt_type);
	out[i++] = BPF_CORE_READ(t, se.sum_exec_runtime);
	out[i++] = BPF_CORE_READ(t, signal, rlim[7].rlim_cur);
	out[i++] = bpf_core_field_exists(((struct task_struct___pre514 *)t)->state);
	out[i++] = bpf_core_field_exists(((struct inode___pre66 *)ino)->i_ctime);
	out[i++] = bpf_core_field_exists(((struct inode___v611 *)ino)->i_ctime_sec);
	out[i++] = bpf_core_type_exists(struct bpf_ringbuf);
	out[i++] = bpf_core_type_size(struct task_struct);
	out[i++] = bpf_core_type_id_kernel(struct sk_buff);
	out[i++] = bpf_core_type_matches(struct list_head);
	out[i++] = bpf_core_type_matches(struct rb_node);
	out[i++] = bpf_core_enum_value(enum bpf_map_type, BPF_MAP_TYPE_RINGBUF);
	out[i++] = bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_ringbuf_output);
	out[i++] = bpf_core_enum_value(enum pid_type, PIDTYPE_SID);
	out[i++] = bpf_core_field_offset(t->comm);
	out[i++] = bpf_core_field_size(t->pid);
	out[i++] = t->flags;
	return 0;
}
"""


# Run for real: each program returns one value read through a wrong local
# layout; after pybcc's relocation the kernel must hand back the truth.
E2E_SRC = PRELUDE + r"""
struct task_struct___e2e {
	char pad[3];
	unsigned int sched_reset_on_fork:1;
	pid_t pid, tgid;
	struct task_struct___e2e *real_parent;
	char comm[4];
	unsigned int no_such_field;
} PAI;

#define TASK ((struct task_struct___e2e *)bpf_get_current_task())
SEC("raw_tracepoint/a") int e_tgid(void *ctx) { return BPF_CORE_READ(TASK, tgid); }
SEC("raw_tracepoint/a") int e_ppid(void *ctx) { return BPF_CORE_READ(TASK, real_parent, tgid); }
SEC("raw_tracepoint/a") int e_comm(void *ctx)
{
	unsigned int c = 0;
	bpf_core_read(&c, 4, &TASK->comm);
	return c;
}
SEC("raw_tracepoint/a") int e_reset(void *ctx) { return BPF_CORE_READ_BITFIELD_PROBED(TASK, sched_reset_on_fork); }
SEC("raw_tracepoint/a") int e_size(void *ctx) { return bpf_core_type_size(struct task_struct___e2e); }
SEC("raw_tracepoint/a") int e_guarded(void *ctx)
{
	if (bpf_core_field_exists(TASK->no_such_field))
		return BPF_CORE_READ(TASK, no_such_field);
	return 4242;
}
SEC("raw_tracepoint/a") int e_poisoned(void *ctx) { return BPF_CORE_READ(TASK, no_such_field); }
"""


# --- compiling and reading objects -------------------------------------------

def compile_bpf(tmp_path, name, src, include=None):
    c = tmp_path / f"{name}.bpf.c"
    c.write_text(src)
    o = tmp_path / f"{name}.o"
    inc = ["-I", str(include)] if include else []
    r = subprocess.run([CLANG, "-O2", "-g", "-target", "bpf", "-D__TARGET_ARCH_x86", *inc, "-c",
                        str(c), "-o", str(o)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return o


def raw_btf(obj_path, out_path):
    with open(obj_path, "rb") as f:
        data = ELFFile(f).get_section_by_name(".BTF").data()
    out_path.write_bytes(data)
    return out_path


class Obj:
    """Just enough ELF reading: BTF, .BTF.ext, code sections and functions."""

    def __init__(self, path):
        with open(path, "rb") as f:
            elf = ELFFile(f)
            self.btf = BTF.parse(elf.get_section_by_name(".BTF").data())
            self.ext = BTFExt.parse(elf.get_section_by_name(".BTF.ext").data(), self.btf)
            self.code = {}
            self.funcs = []     # (name, section, first insn, insn count)
            for sec in elf.iter_sections():
                if sec["sh_type"] == "SHT_PROGBITS" and sec["sh_flags"] & 4:
                    self.code[sec.name] = sec.data()
            symtab = elf.get_section_by_name(".symtab")
            for sym in symtab.iter_symbols():
                if sym["st_info"]["type"] == "STT_FUNC":
                    sec = elf.get_section(sym["st_shndx"]).name
                    self.funcs.append((sym.name, sec, sym["st_value"] // 8, sym["st_size"] // 8))

    def relocate(self, target):
        """pybcc's answer: {(func, relo #): Relocation or LoadError}, {func: insns}."""
        results, insns_by_func = {}, {}
        for name, sec, start, count in self.funcs:
            relos = self.ext.core_relos.get(sec, [])
            insns = asm.decode(self.code[sec][start * 8:(start + count) * 8])
            mine = [n for n, r in enumerate(relos) if start <= r.insn < start + count]
            try:
                res = core.relocate(insns, relos, self.btf, target, section=sec, base=start)
            except LoadError as e:
                for n in mine:
                    results[(name, n)] = e
                continue
            assert len(res) == len(mine)
            results.update({(name, n): r for n, r in zip(mine, res)})
            insns_by_func[name] = insns
        return results, insns_by_func


# --- the libbpf oracle --------------------------------------------------------

DRIVER = r"""
#include <stdio.h>
#include <stdarg.h>
#include <bpf/libbpf.h>
static int pr(enum libbpf_print_level l, const char *fmt, va_list ap) { return vfprintf(stderr, fmt, ap); }
int main(int argc, char **argv)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .btf_custom_path = argc > 2 ? argv[2] : NULL);
	struct bpf_program *prog;
	struct bpf_object *obj;

	libbpf_set_print(pr);
	obj = bpf_object__open_file(argv[1], &opts);
	if (!obj)
		return 2;
	printf("LOAD %d\n", bpf_object__load(obj));
	bpf_object__for_each_program(prog, obj) {
		const struct bpf_insn *in = bpf_program__insns(prog);
		size_t i, n = bpf_program__insn_cnt(prog);

		printf("PROG %s %zu\n", bpf_program__name(prog), n);
		for (i = 0; in && i < n; i++)
			printf("%u %u %u %d %d\n", in[i].code, in[i].dst_reg, in[i].src_reg, in[i].off, in[i].imm);
	}
	bpf_object__close(obj);
	return 0;
}
"""


@pytest.fixture(scope="session")
def libbpf_driver(tmp_path_factory):
    if os.geteuid() != 0:
        pytest.skip("libbpf oracle loads programs: needs root")
    if not shutil.which("gcc") or not os.path.exists("/usr/include/bpf/libbpf.h"):
        pytest.skip("gcc or libbpf-dev missing (apt-get install libbpf-dev)")
    d = tmp_path_factory.mktemp("drv")
    (d / "drv.c").write_text(DRIVER)
    r = subprocess.run(["gcc", "-O1", "-o", str(d / "drv"), str(d / "drv.c"), "-lbpf"],
                       capture_output=True, text=True)
    if r.returncode:
        pytest.skip(f"cannot build libbpf driver: {r.stderr[-300:]}")
    return str(d / "drv")


_EVENT = re.compile(r"prog '(\w+)': relo #(\d+): (?:patched insn #(\d+) \(\S+\) (off|imm|imm64|mem_sz) "
                    r"(\d+) -> (\d+)|substituting insn #(\d+) w/ invalid insn|failed to (?:relocate|patch insn))")


def libbpf_relocate(driver, obj_path, target=None):
    """libbpf's answer: {(prog, relo #): [events]}, {prog: insns}, log text."""
    cmd = [driver, str(obj_path)] + ([str(target)] if target else [])
    r = subprocess.run(cmd, capture_output=True, text=True)
    events = {}
    for m in _EVENT.finditer(r.stderr):
        key = (m.group(1), int(m.group(2)))
        if m.group(3):
            events.setdefault(key, []).append((m.group(4), int(m.group(3)), int(m.group(6))))
        elif m.group(7):
            events.setdefault(key, []).append(("poison", int(m.group(7)), 0))
        else:
            events.setdefault(key, []).append(("error", 0, 0))
    progs, cur = {}, None
    for line in r.stdout.splitlines():
        if line.startswith("PROG "):
            cur = progs.setdefault(line.split()[1], [])
        elif cur is not None:
            code, dst, src, off, imm = map(int, line.split())
            cur.append(asm.Insn(code, dst, src, off, imm))
    return events, progs, r.stderr


def our_events(res):
    """The same events as libbpf's log, from a pybcc Relocation."""
    if isinstance(res, LoadError):
        return [("error", 0, 0)]
    if res.poison:
        return sorted(("poison", p[0], 0) for p in res.patch)
    first = res.patch[0]
    ins = asm.Insn(*first[1:])
    if ins.cls in (asm.LDX, asm.ST, asm.STX):
        ev = [("off", res.insn, res.new)]
        if res.new_sz != res.orig_sz:
            ev.append(("mem_sz", res.insn, res.new_sz))
        return ev
    if ins.is_ld_imm64():
        return [("imm64", res.insn, res.new & (2**64 - 1))]
    return [("imm", res.insn, res.new & (2**64 - 1))]


STATS = {"compared": 0, "agree": 0}


def compare(driver, obj_path, target_btf=None, target_path=None):
    obj = Obj(obj_path)
    ours, our_insns = obj.relocate(target_btf or BTF.kernel())
    theirs, their_insns, log = libbpf_relocate(driver, obj_path, target_path)
    assert ours, "no CO-RE relocations in the object"
    mismatches = []
    for key in sorted(set(ours) | set(theirs)):
        mine = sorted(our_events(ours[key])) if key in ours else None
        STATS["compared"] += 1
        if mine == sorted(theirs.get(key, [])):
            STATS["agree"] += 1
        else:
            desc = ours[key].message() if isinstance(ours.get(key), core.Relocation) else ours.get(key)
            mismatches.append(f"{key}: pybcc {mine} libbpf {theirs.get(key)} ({desc})")
    assert not mismatches, "\n".join(mismatches) + "\n" + "\n".join(
        line for line in log.splitlines() if "relo #" in line)
    # Whole instruction streams, except what other relocations (maps,
    # subprogram calls) change.
    for name, insns in our_insns.items():
        if name not in their_insns:
            continue        # a subprogram: libbpf appends it to its callers
        lib = their_insns[name]
        skip_next = False
        for i, (a, b) in enumerate(zip(insns, lib)):
            if skip_next:
                skip_next = False
                continue
            if b.is_ld_imm64() and b.src in (asm.PSEUDO_MAP_FD, asm.PSEUDO_MAP_VALUE, asm.PSEUDO_FUNC):
                skip_next = True
                continue
            if b.is_call() and b.src == asm.PSEUDO_CALL:
                continue
            assert (a.code, a.dst, a.src, a.off, a.imm) == (b.code, b.dst, b.src, b.off, b.imm), \
                f"{name} insn #{i}: pybcc {a} libbpf {b}"
    return ours


# --- tests --------------------------------------------------------------------

@needs_clang
def test_btf_ext_parse(tmp_path):
    obj = Obj(compile_bpf(tmp_path, "k", KERNEL_SRC))
    ext = obj.ext
    funcs = {f.name for infos in ext.func_info.values() for f in infos}
    assert {"fields", "bitfields", "types", "enums", "poisoned", "subprog"} <= funcs
    lines = ext.line_info["raw_tracepoint/sys_enter"]
    assert all(li.file_name.endswith("k.bpf.c") for li in lines)
    assert any("t->real_parent->tgid" in li.source for li in lines)
    src_lines = KERNEL_SRC.splitlines()
    for li in lines:
        if li.line and li.source:
            assert src_lines[li.line - 1] == li.source
    relos = ext.core_relos["raw_tracepoint/sys_enter"]
    assert all(0 <= r.kind <= 12 and r.access for r in relos)
    assert any(r.kind == core.FIELD_LSHIFT_U64 for r in relos)
    assert ".text" in ext.core_relos     # the subprogram's
    # Kernel-format records: instruction units, relative to the program.
    import struct
    from pybcc.btf import ext as extmod
    name, sec, start, count = next(f for f in obj.funcs if f[0] == "bitfields")
    mine = extmod.for_program(lines, start, count)
    raw = extmod.encode_line_info(mine, start)
    assert len(raw) == 16 * len(mine) and mine
    off, fname, lsrc, lc = struct.unpack_from("<IIII", raw)
    assert off == mine[0].insn - start >= 0 and lc >> 10 == mine[0].line
    assert obj.btf._strings[lsrc:].split(b"\0")[0].decode() == mine[0].source
    fi = extmod.for_program(ext.func_info[sec], start, count)
    assert struct.unpack("<II", extmod.encode_func_info(fi, start)) == (0, fi[0].type_id)
    assert obj.btf[fi[0].type_id].name == "bitfields"


def test_essential_name():
    assert core.essential_name("task_struct___old") == "task_struct"
    assert core.essential_name("task_struct___old___2") == "task_struct___old"
    assert core.essential_name("a____b") == "a____b"          # separator needs X___Y
    assert core.essential_name("___x") == "___x"
    assert core.essential_name("plain") == "plain"


@needs_clang
def test_kernel_vs_libbpf(tmp_path, libbpf_driver):
    ours = compare(libbpf_driver, compile_bpf(tmp_path, "k", KERNEL_SRC))
    kinds = {r.kind for r in ours.values() if isinstance(r, core.Relocation)}
    assert kinds == set(range(13)), f"kinds not covered: {set(range(13)) - kinds}"
    by_desc = {(r.kind, r.local): r for r in ours.values()}
    kb = BTF.kernel()
    ts = kb.find("task_struct", 4)
    pid = next(m for m in ts.members if m.name == "pid")
    assert by_desc[(core.FIELD_BYTE_OFFSET, "struct task_struct___old.pid")].new == pid.bit_offset // 8
    assert by_desc[(core.FIELD_EXISTS, "struct task_struct___old.no_such_field")].new == 0
    assert by_desc[(core.TYPE_SIZE, "struct task_struct___old")].new == ts.size
    assert by_desc[(core.TYPE_ID_TARGET, "struct task_struct___old")].new == ts.id
    assert by_desc[(core.ENUMVAL_VALUE, "enum pid_type___x::PIDTYPE_TGID___x")].new == 1
    prio = by_desc[(core.FIELD_BYTE_OFFSET, "struct task_struct___old.prio")]
    assert prio.poison and prio.patch[0][5] == core.POISON_HELPER


@needs_clang
def test_custom_target_vs_libbpf(tmp_path, libbpf_driver):
    target_o = compile_bpf(tmp_path, "target", TARGET_SRC)
    target_path = raw_btf(target_o, tmp_path / "target.btf")
    target = BTF.load(str(target_path))
    ours = compare(libbpf_driver, compile_bpf(tmp_path, "c", CUSTOM_SRC), target, target_path)
    by_desc = {(r.kind, r.local): r for r in ours.values()}
    # A 4-bit field at bit 6 of a packed struct needs a 2-byte load.
    assert by_desc[(core.FIELD_BYTE_SIZE, "struct bits___l.b")].new == 2
    assert by_desc[(core.ENUMVAL_VALUE, "enum big___l::BIG_A___l")].new == 0x100000000


@needs_clang
@pytest.mark.parametrize("name", sorted(ERROR_SRCS))
def test_errors_vs_libbpf(tmp_path, libbpf_driver, name):
    target_path = raw_btf(compile_bpf(tmp_path, "target", TARGET_SRC), tmp_path / "target.btf")
    target = BTF.load(str(target_path))
    o = compile_bpf(tmp_path, name, PRELUDE + ERROR_SRCS[name])
    obj = Obj(o)
    ours, _ = obj.relocate(target)
    assert all(isinstance(r, LoadError) for r in ours.values()), ours
    msg = str(next(iter(ours.values())))
    assert "raw_tracepoint/sys_enter" in msg and "insn #" in msg, msg
    theirs, _, log = libbpf_relocate(libbpf_driver, o, target_path)
    assert any(ev[0][0] == "error" for ev in theirs.values()), log


UNSIGNED_ENUM_SRC = PRELUDE + r"""
enum uns___l { UNS_HI___l = 0x80000000U, UNS_LO___l = 1 };
SEC("raw_tracepoint/sys_enter")
int uns(void *ctx) { out[0] = bpf_core_enum_value(enum uns___l, UNS_HI___l); return 0; }
"""


@needs_clang
def test_unsigned_enum_value(tmp_path, libbpf_driver):
    """A deliberate difference: libbpf 1.1 sign-extends every 32-bit enum
    value, so it refuses clang's (zero-extended) 0x80000000 in an ld_imm64
    and would load 0xfffffffffffffff0 for the unsigned 0xfffffff0. BTF says
    these enums are unsigned (kind_flag 0): pybcc keeps them unsigned."""
    target_path = raw_btf(compile_bpf(tmp_path, "target", TARGET_SRC), tmp_path / "target.btf")
    o = compile_bpf(tmp_path, "uns", UNSIGNED_ENUM_SRC)
    ours, insns = Obj(o).relocate(BTF.load(str(target_path)))
    (res,) = ours.values()
    assert (res.orig, res.new) == (0x80000000, 0xFFFFFFF0)
    lo, hi = insns["uns"][res.insn], insns["uns"][res.insn + 1]
    assert (lo.imm & 0xFFFFFFFF, hi.imm) == (0xFFFFFFF0, 0)
    theirs, _, log = libbpf_relocate(libbpf_driver, o, target_path)
    if theirs.get(("uns", 0)) != [("error", 0, 0)]:
        assert theirs[("uns", 0)] == [("imm64", res.insn, 0xFFFFFFF0)], log


@needs_clang
def test_patches_replay(tmp_path):
    obj = Obj(compile_bpf(tmp_path, "k", KERNEL_SRC))
    kb = BTF.kernel()
    for name, sec, start, count in obj.funcs:
        orig = asm.decode(obj.code[sec][start * 8:(start + count) * 8])
        insns = asm.decode(obj.code[sec][start * 8:(start + count) * 8])
        res = core.relocate(insns, obj.ext.core_relos.get(sec, []), obj.btf, kb, section=sec, base=start)
        plist = core.patches(res)
        import json
        plist = json.loads(json.dumps(plist))      # must survive a cache round trip
        core.apply_patches(orig, plist)
        assert asm.encode(orig) == asm.encode(insns)


@needs_clang
def test_value_check(tmp_path):
    """An instruction whose value is not what the local BTF says is refused."""
    obj = Obj(compile_bpf(tmp_path, "k", KERNEL_SRC))
    sec = "raw_tracepoint/sys_exit"
    name, _, start, count = next(f for f in obj.funcs if f[0] == "types")
    insns = asm.decode(obj.code[sec][start * 8:(start + count) * 8])
    relos = [r for r in obj.ext.core_relos[sec] if r.kind == core.TYPE_SIZE and start <= r.insn < start + count]
    insns[relos[0].insn - start].imm += 1
    with pytest.raises(LoadError, match=r"type_size relocation of struct task_struct___old: instruction has imm \d+, expected \d+"):
        core.relocate(insns, relos, obj.btf, BTF.kernel(), section=sec, base=start)


def _load_and_run(name, insns):
    import ctypes
    from pybcc.kernel import bpf
    code = ctypes.create_string_buffer(asm.encode(insns))
    lic = ctypes.create_string_buffer(b"GPL")
    log = ctypes.create_string_buffer(1 << 16)
    fd, _ = bpf.prog_load(prog_type=17, insn_cnt=len(insns), insns=ctypes.addressof(code),
                               license=ctypes.addressof(lic), log_level=1, log_size=len(log),
                               log_buf=ctypes.addressof(log), prog_name=name.encode()[:15])
    if fd < 0:
        return None, log.value.decode(errors="replace")
    try:
        return bpf.prog_test_run(fd, ctx=bytes(8), repeat=0)[0], ""   # raw_tp: repeat must be 0
    finally:
        os.close(fd)


@needs_clang
def test_end_to_end(tmp_path, root):
    """Relocated by pybcc, loaded and run by the kernel: the values are real."""
    obj = Obj(compile_bpf(tmp_path, "e2e", E2E_SRC))
    kb = BTF.kernel()
    progs = {}
    for name, sec, start, count in obj.funcs:
        insns = asm.decode(obj.code[sec][start * 8:(start + count) * 8])
        progs[name] = (insns, core.relocate(insns, obj.ext.core_relos[sec], obj.btf, kb,
                                            section=sec, base=start))
    old = os.sched_getscheduler(0)
    os.sched_setscheduler(0, os.SCHED_OTHER | os.SCHED_RESET_ON_FORK, os.sched_param(0))
    try:
        got = {name: _load_and_run(name, insns) for name, (insns, _) in progs.items()}
    finally:
        os.sched_setscheduler(0, old, os.sched_param(0))
    with open("/proc/self/comm", "rb") as f:
        comm = int.from_bytes(f.read()[:4], "little")
    assert got["e_tgid"] == (os.getpid(), "")
    assert got["e_ppid"] == (os.getppid(), "")
    assert got["e_comm"] == (comm, "")
    assert got["e_reset"] == (1, "")
    assert got["e_size"] == (kb.find("task_struct", 4).size, "")
    assert got["e_guarded"] == (4242, "")
    # Reaching a poisoned instruction is a verifier error, explained by pybcc.
    ret, log = got["e_poisoned"]
    assert ret is None and f"unknown#{core.POISON_HELPER}" in log, log
    msg = core.explain_poison(progs["e_poisoned"][1], log)
    assert msg and "struct task_struct___e2e.no_such_field not found" in msg, msg


def _foreign():
    sys.path.insert(0, os.path.dirname(__file__))
    try:
        import btf_fixtures
    except ImportError as e:
        pytest.skip(f"tests/btf_fixtures.py unavailable: {e}")
    return btf_fixtures


@needs_clang
def test_foreign_header_vs_libbpf(tmp_path, libbpf_driver):
    """Compiled against Debian 6.1's vmlinux.h, relocated for the running kernel."""
    inc = _foreign().foreign_vmlinux_h_dir()
    ours = compare(libbpf_driver, compile_bpf(tmp_path, "v61", VMLINUX_SRC, inc))
    assert len(ours) >= 25


@needs_clang
def test_foreign_target_vs_libbpf(tmp_path, libbpf_driver):
    """Compiled against the running kernel's vmlinux.h, relocated for Debian 6.1."""
    target_path = _foreign().foreign_btf_path()
    try:
        from pybcc.btf import cgen
        inc = cgen.vmlinux_header()
    except Exception as e:      # another module's failure must not hide ours
        pytest.skip(f"cannot generate vmlinux.h: {e}")
    target = BTF.load(target_path)
    ours = compare(libbpf_driver, compile_bpf(tmp_path, "vnow", VMLINUX_SRC, inc), target, target_path)
    assert len(ours) >= 25


def test_summary():
    """Print how many relocations were compared with libbpf (run with -s)."""
    print(f"\nCO-RE: {STATS['agree']}/{STATS['compared']} relocations agree with libbpf", file=sys.stderr)


def test_kernel_btf_is_read_lazily_and_equals_a_full_parse():
    # BTF.kernel() indexes the records and decodes a type when it is first
    # read (a CO-RE resolution reads a few hundred of ~130k): every type,
    # name lookup and CO-RE candidate set must equal what a full parse gives.
    from pybcc.btf import types as T
    from pybcc.btf.core import essential_name
    with open("/sys/kernel/btf/vmlinux", "rb") as f:
        data = f.read()
    lazy, full = T.BTF.parse(data, lazy=True), T.BTF.parse(data)
    assert len(lazy) == len(full)
    assert all(lazy[i] == full[i] for i in range(1, len(full), 7))
    for name in ("task_struct", "sock", "file", "pid", "trace_event_raw_sys_enter"):
        assert [t.id for t in lazy.find_all(name)] == [t.id for t in full.find_all(name)]
        assert sorted(lazy.own_ids_by_essential_name(name, essential_name)) == \
            sorted(full.own_ids_by_essential_name(name, essential_name))
    assert list(lazy)[-1] == full[len(full) - 1]


def test_lazy_btf_refuses_a_truncated_type_section():
    from pybcc.btf import types as T
    from pybcc.errors import FormatError
    with open("/sys/kernel/btf/vmlinux", "rb") as f:
        data = bytearray(f.read())
    hdr = T.HEADER.unpack_from(data)
    T.HEADER.pack_into(data, 0, *hdr[:5], hdr[5] - 6, *hdr[6:])   # type_len cut mid-record
    with pytest.raises(FormatError):
        T.BTF.parse(bytes(data), lazy=True)
