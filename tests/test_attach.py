"""Attach each kind of program for real, trigger its event and count it.

Programs are built by hand (pybcc.asm): they bump a counter in an array map,
optionally only for this process (bpf_get_current_pid_tgid() >> 32 == tgid).
Kinds the running kernel lacks must raise NotSupportedError with a useful
message; their real tests are marked `vm` and skip here.
"""
import ctypes
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time

import pytest

from pybcc import asm
from pybcc.errors import AttachError, BPFError, NotSupportedError
from pybcc.attach import (Link, attach_kprobe, attach_kprobe_multi,
                          attach_kretprobe, attach_perf_event, attach_raw_tracepoint,
                          attach_socket, attach_tc, attach_tp_btf, attach_tracepoint,
                          attach_uprobe, attach_uprobe_multi, attach_uretprobe, attach_xdp,
                          btf_target)
from pybcc.attach import elf, kprobe, perf, tracing
from pybcc.attach.uprobe import attach_uprobe_tracefs, resolve
from pybcc.kernel import features, bpf, tracefs
from pybcc.kernel.uapi import (AttachType, Cmd, MapType, ProgType, PERF_COUNT_HW_CPU_CYCLES,
                               PERF_COUNT_SW_CPU_CLOCK, PERF_TYPE_HARDWARE, PERF_TYPE_SOFTWARE)

pytestmark = pytest.mark.usefixtures("root")

HELPER_MAP_LOOKUP = 1
HELPER_GET_PID_TGID = 14
HELPER_GET_ATTACH_COOKIE = 174
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# --- helpers -----------------------------------------------------------------

class Counter:
    """A one-slot array map and a program that increments it."""

    def __init__(self):
        self.map_fd = bpf.map_create(map_type=MapType.ARRAY, key_size=4, value_size=8,
                                          max_entries=1)
        self.fds = [self.map_fd]

    def cookie_program(self, prog_type, **load):
        """A program that stores bpf_get_attach_cookie() in the slot."""
        insns = [asm.call_helper(HELPER_GET_ATTACH_COOKIE), asm.mov64_reg(7, 0),
                 asm.st_mem(asm.W, 10, -4, 0), asm.mov64_reg(2, 10),
                 asm.alu64_imm(asm.ADD, 2, -4), asm.ld_map_fd(1, self.map_fd),
                 asm.call_helper(HELPER_MAP_LOOKUP), asm.jmp_imm(asm.JEQ, 0, 0, 1),
                 asm.stx_mem(asm.DW, 0, 7, 0), asm.mov64_imm(0, 0), asm.exit_insn()]
        fd, log = features.load_program(prog_type, insns, log=True, **load)
        assert fd >= 0, f"load failed: {os.strerror(-fd)}\n{log}"
        self.fds.append(fd)
        return fd

    def program(self, prog_type, tgid=None, ret=0, **load):
        count = asm.flatten([
            asm.st_mem(asm.W, 10, -4, 0), asm.mov64_reg(2, 10), asm.alu64_imm(asm.ADD, 2, -4),
            asm.ld_map_fd(1, self.map_fd), asm.call_helper(HELPER_MAP_LOOKUP),
            asm.jmp_imm(asm.JEQ, 0, 0, 2), asm.mov64_imm(1, 1), asm.atomic_add64(0, 1, 0)])
        head = []
        if tgid is not None:
            head = [asm.call_helper(HELPER_GET_PID_TGID), asm.alu64_imm(asm.RSH, 0, 32),
                    asm.jmp_imm(asm.JNE, 0, tgid, len(count))]
        insns = head + count + [asm.mov64_imm(0, ret), asm.exit_insn()]
        fd, log = features.load_program(prog_type, insns, log=True, **load)
        assert fd >= 0, f"load failed: {os.strerror(-fd)}\n{log}"
        self.fds.append(fd)
        return fd

    @property
    def value(self):
        val = ctypes.c_uint64()
        bpf.map_elem(Cmd.MAP_LOOKUP_ELEM, self.map_fd, ctypes.c_uint32(0), val)
        return val.value

    def close(self):
        for fd in self.fds:
            os.close(fd)


@pytest.fixture
def counter():
    c = Counter()
    yield c
    c.close()


def prog_id(prog_fd):
    info = ctypes.create_string_buffer(256)  # struct bpf_prog_info: type, id, ...
    bpf.obj_info(prog_fd, info)
    return int.from_bytes(info.raw[4:8], "little")


def id_exists(get_fd_cmd, obj_id):
    try:
        os.close(bpf.fd_by_id(get_fd_cmd, obj_id))
        return True
    except BPFError as e:
        assert e.errno == 2, e
        return False


def need(cond, why):
    if not cond:
        pytest.skip(why)


# --- Link ----------------------------------------------------------------------

def test_link_close_is_idempotent_and_context_manager():
    r, w = os.pipe()
    cleaned = []
    with Link("test link", [r, w], cleanups=[lambda: cleaned.append(1)]) as link:
        assert link.fd == r and not link.closed
        assert "test link" in repr(link)
    assert link.closed and cleaned == [1]
    link.close()
    assert cleaned == [1]
    with pytest.raises(OSError):
        os.fstat(r)


# --- tracefs -------------------------------------------------------------------

def test_tracefs_tracepoint_id_and_list():
    assert tracefs.tracepoint_id("syscalls:sys_enter_getppid") > 0
    assert tracefs.tracepoint_id("syscalls", "sys_enter_getppid") > 0
    tps = tracefs.list_tracepoints("sched:sched_switch*")
    assert "sched:sched_switch" in tps
    assert tracefs.tracepoint_exists("sched:sched_switch")
    assert not tracefs.tracepoint_exists("sched:no_such_thing")


def test_tracefs_missing_tracepoint_suggests_names():
    with pytest.raises(tracefs.TracepointNotFound) as ei:
        tracefs.tracepoint_id("sched:sched_swtich")
    msg = str(ei.value)
    assert "does not exist" in msg and "sched:sched_switch" in msg


def test_tracefs_format_fields():
    fmt = tracefs.tracepoint_format("sched:sched_switch")
    fields = {f.name: f for f in fmt.fields}
    assert fields["common_type"].offset == 0 and fields["common_type"].size == 2
    comm = fields["prev_comm"]
    assert comm.array_len == 16 and comm.type == "char[16]" and comm.size == 16
    assert fields["prev_pid"].signed and fields["prev_pid"].size == 4
    assert "prev_comm" in [f.name for f in fmt.own_fields]
    assert "common_pid" not in [f.name for f in fmt.own_fields]
    assert fmt.id == tracefs.tracepoint_id("sched:sched_switch")
    assert "prev_comm" in fmt.print_fmt


def test_tracefs_data_loc_field():
    fmt = tracefs.tracepoint_format("sched", "sched_process_exec")
    fname = [f for f in fmt.fields if f.name == "filename"][0]
    assert fname.data_loc and fname.type == "char[]" and fname.size == 4


def test_tracefs_parse_format_text():
    text = textwrap.dedent("""\
        name: demo
        ID: 42
        format:
        \tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
        \tfield:__data_loc char[] name;\toffset:8;\tsize:4;\tsigned:1;
        \tfield:const char * ptr;\toffset:16;\tsize:8;\tsigned:0;
        \tfield:u8 buf[6];\toffset:24;\tsize:6;\tsigned:0;

        print fmt: "name=%s", __get_str(name)
        """)
    fmt = tracefs.parse_format(text)
    assert (fmt.name, fmt.id) == ("demo", 42)
    by = {f.name: f for f in fmt.fields}
    assert by["name"].data_loc and by["name"].type == "char[]"
    assert by["ptr"].type == "const char *" and by["ptr"].offset == 16
    assert by["buf"].array_len == 6 and by["buf"].type == "u8[6]"


# --- tracepoints -----------------------------------------------------------------

def test_tracepoint_counts_and_detaches(counter):
    fd = counter.program(ProgType.TRACEPOINT, tgid=os.getpid())
    link = attach_tracepoint(fd, "syscalls:sys_enter_getppid")
    assert "syscalls:sys_enter_getppid" in link.description
    assert link.link_id  # a BPF perf link on this kernel
    for _ in range(50):
        os.getppid()
    assert counter.value == 50
    link.close()
    for _ in range(10):
        os.getppid()
    assert counter.value == 50


def test_close_all_detaches_every_link(counter):
    """close_all closes links from threads (their detach waits overlap):
    afterwards none counts and none of the kernel's link ids is left."""
    from pybcc.attach.link import close_all
    fd = counter.program(ProgType.TRACEPOINT, tgid=os.getpid())
    events = ["sys_enter_getppid", "sys_exit_getppid", "sys_enter_getpid", "sys_exit_getpid",
              "sys_enter_getuid"]
    links = [attach_tracepoint(fd, "syscalls:" + e) for e in events]
    ids = [link.link_id for link in links]
    os.getppid()
    os.getpid()
    assert counter.value == 4
    assert close_all(links) == []
    assert all(link.closed for link in links)
    assert not any(id_exists(Cmd.LINK_GET_FD_BY_ID, i) for i in ids if i)
    os.getppid()
    os.getpid()
    assert counter.value == 4


def test_tracepoint_ioctl_fallback(counter, monkeypatch):
    """Kernels before perf links: PERF_EVENT_IOC_SET_BPF."""
    def no_links(*a, **kw):
        raise BPFError("link_create", 22)
    monkeypatch.setattr(perf.bpf, "link_create", no_links)
    fd = counter.program(ProgType.TRACEPOINT, tgid=os.getpid())
    with attach_tracepoint(fd, "syscalls", "sys_enter_getppid") as link:
        assert link.link_id is None and len(link.fds) == 1
        for _ in range(7):
            os.getppid()
    os.getppid()
    assert counter.value == 7


def test_tracepoint_cookie(counter):
    fd = counter.cookie_program(ProgType.TRACEPOINT)
    with attach_tracepoint(fd, "syscalls:sys_enter_getppid", cookie=0x1234_5678_9abc):
        os.getppid()
    assert counter.value == 0x1234_5678_9abc


def test_tracepoint_missing(counter):
    fd = counter.program(ProgType.TRACEPOINT)
    with pytest.raises(AttachError) as ei:
        attach_tracepoint(fd, "syscalls:sys_enter_getppidd")
    assert "syscalls:sys_enter_getppid" in str(ei.value)


def test_raw_tracepoint(counter):
    fd = counter.program(ProgType.RAW_TRACEPOINT, tgid=os.getpid())
    with attach_raw_tracepoint(fd, "sys_enter"):
        for _ in range(20):
            os.getppid()
    n = counter.value
    assert n >= 20
    os.getppid()
    assert counter.value == n


def test_raw_tracepoint_missing(counter):
    fd = counter.program(ProgType.RAW_TRACEPOINT)
    with pytest.raises(AttachError) as ei:
        attach_raw_tracepoint(fd, "sched_swtich")
    assert "does not exist" in str(ei.value) and "sched_switch" in str(ei.value)


def test_tp_btf(counter):
    need(features.has_tp_btf(), "tp_btf not supported by this kernel")
    attach_type, btf_id = btf_target("tp_btf", "sys_enter")
    fd = counter.program(ProgType.TRACING, tgid=os.getpid(),
                         expected_attach_type=attach_type, attach_btf_id=btf_id)
    with attach_tp_btf(fd, "sys_enter") as link:
        assert link.link_id
        for _ in range(20):
            os.getppid()
    n = counter.value
    assert n >= 20
    os.getppid()
    assert counter.value == n


def test_btf_target_unknown():
    with pytest.raises(AttachError):
        btf_target("tp_btf", "no_such_tracepoint_xyz")


# --- fentry / kprobes: real tests need a stock kernel (VM) ----------------------

def test_fentry_not_supported_message():
    need(not features.has_fentry(), "this kernel has fentry")
    with pytest.raises(NotSupportedError) as ei:
        tracing.ensure_supported("fentry", "__x64_sys_getppid")
    e = ei.value
    assert e.feature == "fentry"
    assert "syscalls:sys_enter_getppid" in str(e)


def test_kprobe_not_supported_message(counter):
    need(not features.has_kprobes(), "this kernel has kprobes")
    fd = counter.program(ProgType.KPROBE)
    with pytest.raises(NotSupportedError) as ei:
        attach_kprobe(fd, "__x64_sys_getppid")
    msg = str(ei.value)
    assert "kprobes are not available" in msg and "CONFIG_KPROBES" in msg
    assert "t:syscalls:sys_enter_getppid" in msg
    assert ei.value.feature == "kprobe"
    with pytest.raises(NotSupportedError):
        attach_kretprobe(fd, "do_sys_openat2")


def test_syscall_function_name():
    name = kprobe.syscall_function("openat")
    assert name.endswith("sys_openat")
    with open("/proc/kallsyms") as f:
        assert any(line.split()[2] == name for line in f if len(line.split()) >= 3)


def test_kprobe_multi_not_supported_message(counter):
    need(not features.has_kprobe_multi(), "this kernel has kprobe_multi")
    fd = counter.program(ProgType.KPROBE)
    with pytest.raises(NotSupportedError) as ei:
        attach_kprobe_multi(fd, ["__x64_sys_getppid"])
    assert ei.value.feature == "kprobe_multi"


@pytest.mark.vm
@pytest.mark.parametrize("retprobe", [False, True])
def test_kprobe(counter, retprobe):
    need(features.has_kprobes(), "kprobes are not available on this kernel")
    fd = counter.program(ProgType.KPROBE, tgid=os.getpid())
    with attach_kprobe(fd, "__x64_sys_getppid", retprobe=retprobe):
        for _ in range(10):
            os.getppid()
    os.getppid()
    assert counter.value == 10


@pytest.mark.vm
def test_kprobe_tracefs_fallback(counter):
    need(tracefs.has_probe_events("kprobe"), "no tracefs kprobe_events")
    from pybcc.attach.kprobe import attach_kprobe_tracefs
    fd = counter.program(ProgType.KPROBE, tgid=os.getpid())
    link = attach_kprobe_tracefs(fd, "__x64_sys_getppid")
    assert any(str(os.getpid()) in n for n in tracefs.list_probe_events("kprobe"))
    for _ in range(5):
        os.getppid()
    link.close()
    assert counter.value == 5
    assert not any(f"_{os.getpid()}_" in n for n in tracefs.list_probe_events("kprobe"))


@pytest.mark.vm
def test_kprobe_missing_function(counter):
    need(features.has_kprobes(), "kprobes are not available on this kernel")
    fd = counter.program(ProgType.KPROBE)
    with pytest.raises(AttachError) as ei:
        attach_kprobe(fd, "no_such_function_xyz")
    assert "no_such_function_xyz" in str(ei.value)


@pytest.mark.vm
def test_kprobe_multi(counter):
    need(features.has_kprobe_multi(), "kprobe_multi not supported by this kernel")
    fd = counter.program(ProgType.KPROBE, tgid=os.getpid(),
                         expected_attach_type=AttachType.TRACE_KPROBE_MULTI)
    with attach_kprobe_multi(fd, ["__x64_sys_getppid", "__x64_sys_getpgrp"]):
        for _ in range(5):
            os.getppid()
            os.getpgrp()
    assert counter.value == 10


@pytest.mark.vm
@pytest.mark.parametrize("kind", ["fentry", "fexit"])
def test_fentry(counter, kind):
    need(features.has_fentry(), "fentry not supported by this kernel")
    # __x64_sys_getppid has no BTF (no-argument syscall wrapper); ksys_read has.
    attach_type, btf_id = btf_target(kind, "ksys_read")
    fd = counter.program(ProgType.TRACING, tgid=os.getpid(),
                         expected_attach_type=attach_type, attach_btf_id=btf_id)
    zero = os.open("/dev/zero", os.O_RDONLY)
    try:
        with tracing.attach_btf_program(fd, kind, "ksys_read") as link:
            assert link.link_id
            for _ in range(10):
                os.read(zero, 1)
        os.read(zero, 1)
    finally:
        os.close(zero)
    assert 10 <= counter.value <= 12


def active_lsms():
    """The kernel's active LSM list, or None when securityfs is unreadable."""
    try:
        with open("/sys/kernel/security/lsm") as f:
            return f.read().strip().split(",")
    except OSError:
        return None


def need_lsm():
    """BPF LSM: skip on kernels without it; inside the test VM (PYBCC_VMTEST=1,
    booted with lsm=...,bpf by scripts/vm-tests.sh) that is a failure.
    features.has_lsm() alone is not enough: with CONFIG_BPF_LSM=y but "bpf"
    not in lsm=, LSM programs load and attach and then never run."""
    lsms = active_lsms()
    why = None
    if not features.has_lsm():
        why = "BPF LSM not enabled on this kernel (CONFIG_BPF_LSM and 'bpf' in lsm=)"
    elif lsms is not None and "bpf" not in lsms:
        why = "BPF LSM programs load but 'bpf' is not among the active LSMs"
    if why is None:
        return
    if os.environ.get("PYBCC_VMTEST") == "1":
        pytest.fail(f"{why}; active LSMs: {lsms} (inside the test VM)")
    pytest.skip(why)


@pytest.mark.vm
def test_lsm(counter):
    need_lsm()
    attach_type, btf_id = btf_target("lsm", "file_open")
    fd = counter.program(ProgType.LSM, tgid=os.getpid(),
                         expected_attach_type=attach_type, attach_btf_id=btf_id)
    with tracing.attach_lsm(fd, "file_open") as link:
        assert link.link_id
        for _ in range(3):
            os.close(os.open("/dev/null", os.O_RDONLY))
    os.close(os.open("/dev/null", os.O_RDONLY))     # detached: not counted
    assert counter.value == 3


@pytest.mark.vm
def test_lsm_denies(counter):
    """An LSM program's return value is the hook's verdict: -EPERM from
    file_open makes open() fail, for this process only, until detached."""
    need_lsm()
    attach_type, btf_id = btf_target("lsm", "file_open")
    count = [asm.st_mem(asm.W, 10, -4, 0), asm.mov64_reg(2, 10), asm.alu64_imm(asm.ADD, 2, -4),
             asm.ld_map_fd(1, counter.map_fd), asm.call_helper(HELPER_MAP_LOOKUP),
             asm.jmp_imm(asm.JEQ, 0, 0, 2), asm.mov64_imm(1, 1), asm.atomic_add64(0, 1, 0)]
    count = asm.flatten(count)
    insns = asm.flatten([
        asm.call_helper(HELPER_GET_PID_TGID), asm.alu64_imm(asm.RSH, 0, 32),
        asm.jmp_imm(asm.JEQ, 0, os.getpid(), 2),
        asm.mov64_imm(0, 0), asm.exit_insn(),                   # other processes: allow
        count, asm.mov64_imm(0, -1), asm.exit_insn()])          # this one: -EPERM
    fd, log = features.load_program(ProgType.LSM, insns, log=True,
                                    expected_attach_type=attach_type, attach_btf_id=btf_id)
    assert fd >= 0, f"load failed: {os.strerror(-fd)}\n{log}"
    counter.fds.append(fd)
    with tracing.attach_lsm(fd, "file_open"):
        with pytest.raises(PermissionError):
            os.open("/dev/null", os.O_RDONLY)
        # another process is not affected
        assert subprocess.run(["/bin/sh", "-c", "exec cat /dev/null"]).returncode == 0
    os.close(os.open("/dev/null", os.O_RDONLY))
    assert counter.value == 1


# --- uprobes -------------------------------------------------------------------

TARGET_C = r"""
#include <stdio.h>
#include <stdlib.h>
/* A USDT-style semaphore: the kernel increments it while a probe with
   ref_ctr_offset pointing here is attached. */
volatile unsigned short pybcc_sema __attribute__((section(".probes")));

__attribute__((noinline)) int pybcc_target(int x)
{
    __asm__ volatile("" ::: "memory");
    return x + 1;
}

int main(int argc, char **argv)
{
    int n = atoi(argv[1]), s = 0;
    if (argc > 2) {           /* wait until the test has attached */
        printf("ready\n");
        fflush(stdout);
        getchar();
    }
    for (int i = 0; i < n; i++)
        s += pybcc_target(i);
    printf("sema=%d sum=%d\n", pybcc_sema, s);
    return 0;
}
"""


@pytest.fixture(scope="module")
def target_bin(tmp_path_factory):
    d = tmp_path_factory.mktemp("uprobe")
    src = d / "target.c"
    src.write_text(TARGET_C)
    out = d / "target"
    subprocess.run(["gcc", "-O1", "-o", str(out), str(src)], check=True)
    return str(out)


def run_target(path, n):
    return subprocess.run([path, str(n)], check=True, capture_output=True, text=True).stdout


def test_uprobe_symbol_resolution(target_bin):
    path, off = resolve(target_bin, "pybcc_target")
    assert path == target_bin
    nm = subprocess.run(["nm", target_bin], capture_output=True, text=True).stdout
    vaddr = int([l for l in nm.splitlines() if l.endswith(" pybcc_target")][0].split()[0], 16)
    assert off == elf.address_offset(target_bin, vaddr)
    with open(target_bin, "rb") as f:       # the code at that offset is the function
        f.seek(off)
        assert len(f.read(4)) == 4
    with pytest.raises(AttachError):
        resolve(target_bin, "no_such_function")
    libc = elf.find_binary("c")
    assert "libc" in libc and os.path.exists(libc)


@pytest.mark.parametrize("retprobe", [False, True])
def test_uprobe_counts(counter, target_bin, retprobe):
    need(features.has_uprobes(), "uprobes not available")
    fd = counter.program(ProgType.KPROBE)
    attach = attach_uretprobe if retprobe else attach_uprobe
    with attach(fd, target_bin, "pybcc_target") as link:
        assert ("uretprobe" if retprobe else "uprobe") in link.description
        run_target(target_bin, 25)
    assert counter.value == 25
    run_target(target_bin, 5)
    assert counter.value == 25


def test_uprobe_per_pid(counter, target_bin):
    fd = counter.program(ProgType.KPROBE)
    child = subprocess.Popen([target_bin, "12", "wait"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline() == "ready\n"
        with attach_uprobe(fd, target_bin, "pybcc_target", pid=child.pid):
            run_target(target_bin, 100)            # another process: not counted
            child.communicate("\n", timeout=10)
        assert counter.value == 12
    finally:
        child.kill()
        child.wait()


def test_uprobe_semaphore(counter, target_bin):
    """ref_ctr_offset: the kernel raises the USDT semaphore while attached."""
    fd = counter.program(ProgType.KPROBE)
    sema = elf.symbol_offset(target_bin, "pybcc_sema", functions_only=False)
    with attach_uprobe(fd, target_bin, "pybcc_target", ref_ctr_offset=sema):
        out = run_target(target_bin, 3)
    assert out.startswith("sema=1 ")
    assert counter.value == 3
    assert run_target(target_bin, 1).startswith("sema=0 ")


def test_uprobe_libc_getpid_self(counter):
    """libc's getpid in this process only (os.getpid calls it each time)."""
    fd = counter.program(ProgType.KPROBE)
    with attach_uprobe(fd, "c", "getpid", pid=os.getpid()):
        for _ in range(10):
            os.getpid()
    assert counter.value >= 10


def test_uprobe_multi(counter, target_bin):
    fd = counter.program(ProgType.KPROBE, expected_attach_type=AttachType.TRACE_UPROBE_MULTI)
    if not features.has_uprobe_multi():
        with pytest.raises(NotSupportedError):
            attach_uprobe_multi(fd, target_bin, ["pybcc_target", "main"])
        return
    with attach_uprobe_multi(fd, target_bin, ["pybcc_target", "main"]) as link:
        assert "2 places" in link.description
        run_target(target_bin, 6)
    assert counter.value == 7
    with attach_uprobe_multi(fd, target_bin, r"^pybcc_targ", retprobe=True):
        run_target(target_bin, 2)
    assert counter.value == 9


def test_uprobe_symbol_regex(target_bin):
    assert elf.match_symbols(target_bin, r"^pybcc_t") == ["pybcc_target"]
    assert "main" in elf.match_symbols(target_bin, r"^ma")


def test_uprobe_tracefs_fallback(counter, target_bin):
    need(tracefs.has_probe_events("uprobe"), "no tracefs uprobe_events")
    fd = counter.program(ProgType.KPROBE)
    path, off = resolve(target_bin, "pybcc_target")
    link = attach_uprobe_tracefs(fd, path, off)
    mine = [n for n in tracefs.list_probe_events("uprobe") if f"_{os.getpid()}_" in n]
    assert len(mine) == 1
    run_target(target_bin, 4)
    link.close()
    assert counter.value == 4
    assert not [n for n in tracefs.list_probe_events("uprobe") if f"_{os.getpid()}_" in n]


# --- perf events -----------------------------------------------------------------

def _spin(seconds):
    """Burn ``seconds`` of this thread's CPU time (not wall time: on a busy
    machine a wall second may hold only a little CPU), at most 30 s of wall."""
    end, give_up = time.thread_time() + seconds, time.time() + 30
    while time.thread_time() < end and time.time() < give_up:
        pass


def test_perf_event_cpu_clock(counter):
    fd = counter.program(ProgType.PERF_EVENT)
    with attach_perf_event(fd, PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_CLOCK,
                           sample_freq=1000) as link:
        assert len(link.fds) >= 1
        _spin(0.3)
    n = counter.value
    assert n > 50
    _spin(0.05)
    assert counter.value == n


def test_perf_event_period_one_cpu_one_pid(counter):
    fd = counter.program(ProgType.PERF_EVENT, tgid=os.getpid())
    with attach_perf_event(fd, PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_CLOCK,
                           sample_period=1_000_000, pid=os.getpid(), cpu=-1):
        _spin(0.2)
    assert counter.value > 20


def test_perf_event_hardware(counter):
    fd = counter.program(ProgType.PERF_EVENT)
    if features.hardware_perf_events():
        with attach_perf_event(fd, PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES,
                               sample_period=100000):
            _spin(0.1)
        assert counter.value > 0
    else:
        with pytest.raises(NotSupportedError) as ei:
            attach_perf_event(fd, PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES,
                              sample_period=100000)
        assert "cpu-clock" in str(ei.value)


# --- networking --------------------------------------------------------------------

def _udp_pair():
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    rx.settimeout(2)
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    return rx, tx


def test_socket_filter(counter):
    fd = counter.program(ProgType.SOCKET_FILTER, ret=-1)   # keep the whole packet
    rx, tx = _udp_pair()
    with rx, tx:
        with attach_socket(fd, rx):
            for _ in range(5):
                tx.sendto(b"hello", rx.getsockname())
                assert rx.recv(100) == b"hello"
        tx.sendto(b"more", rx.getsockname())
        assert rx.recv(100) == b"more"
    assert counter.value == 5


def test_socket_filter_drops(counter):
    fd = counter.program(ProgType.SOCKET_FILTER, ret=0)    # keep nothing: drop
    rx, tx = _udp_pair()
    with rx, tx:
        rx.settimeout(0.2)
        with attach_socket(fd, rx):
            tx.sendto(b"x", rx.getsockname())
            with pytest.raises(socket.timeout):
                rx.recv(100)
        tx.sendto(b"y", rx.getsockname())
        assert rx.recv(100) == b"y"
    assert counter.value == 1


def test_xdp_on_loopback(counter):
    fd = counter.program(ProgType.XDP, ret=2)               # XDP_PASS
    rx, tx = _udp_pair()
    with rx, tx:
        with attach_xdp(fd, "lo", mode="skb") as link:
            assert link.link_id
            for _ in range(5):
                tx.sendto(b"x", rx.getsockname())
                assert rx.recv(10) == b"x"
    assert counter.value >= 5


def test_tc_ingress_on_loopback(counter):
    fd = counter.program(ProgType.SCHED_CLS, ret=-1)         # TCX_NEXT
    if not features.has_tcx():
        with pytest.raises(NotSupportedError):
            attach_tc(fd, "lo")
        return
    rx, tx = _udp_pair()
    with rx, tx:
        with attach_tc(fd, "lo", "ingress"):
            for _ in range(5):
                tx.sendto(b"x", rx.getsockname())
                assert rx.recv(10) == b"x"
    assert counter.value >= 5


def test_xdp_unknown_device(counter):
    fd = counter.program(ProgType.XDP, ret=2)
    with pytest.raises(AttachError):
        attach_xdp(fd, "nosuchdev0")


# --- nothing survives the process --------------------------------------------------

CHILD = r"""
import os, sys, time
sys.path.insert(0, {root!r})
from pybcc import asm
from pybcc.attach import attach_tracepoint, attach_uprobe
from pybcc.attach.uprobe import attach_uprobe_tracefs, resolve
from pybcc.kernel import features
from pybcc.kernel.uapi import ProgType
ret0 = [asm.mov64_imm(0, 0), asm.exit_insn()]
tp_prog, _ = features.load_program(ProgType.TRACEPOINT, ret0)
up_prog, _ = features.load_program(ProgType.KPROBE, ret0)
links = [attach_tracepoint(tp_prog, "syscalls:sys_enter_getppid"),
         attach_uprobe(up_prog, {binary!r}, "pybcc_target")]
if {tracefs!r}:
    links.append(attach_uprobe_tracefs(up_prog, *resolve({binary!r}, "pybcc_target")))
assert tp_prog >= 0 and up_prog >= 0
print(" ".join(str(l.link_id or 0) for l in links), flush=True)
time.sleep(60)
"""


def _child(target_bin, use_tracefs):
    code = CHILD.format(root=ROOT, binary=target_bin, tracefs=use_tracefs)
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    line = child.stdout.readline()
    assert line.strip(), "child failed to attach"
    return child, [int(x) for x in line.split() if int(x)]


def _child_progs(pid):
    """Ids of the BPF programs the child's fds point to."""
    ids = []
    for name in os.listdir(f"/proc/{pid}/fdinfo"):
        try:
            with open(f"/proc/{pid}/fdinfo/{name}") as f:
                for line in f:
                    if line.startswith("prog_id:"):
                        ids.append(int(line.split()[1]))
        except OSError:
            pass
    return set(ids)


def _wait_gone(check, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        if not check():
            return True
        time.sleep(0.05)
    return False


def test_sigkill_leaves_no_program_link_or_event(target_bin):
    child, link_ids = _child(target_bin, use_tracefs=False)
    progs = _child_progs(child.pid)
    assert link_ids and progs
    assert all(id_exists(Cmd.LINK_GET_FD_BY_ID, i) for i in link_ids)
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert _wait_gone(lambda: any(id_exists(Cmd.LINK_GET_FD_BY_ID, i) for i in link_ids))
    assert _wait_gone(lambda: any(id_exists(Cmd.PROG_GET_FD_BY_ID, i) for i in progs))
    assert not [n for n in tracefs.list_probe_events("uprobe") if f"_{child.pid}_" in n]


def test_sigkill_tracefs_event_is_cleaned_up(target_bin):
    """The tracefs fallback leaves an event behind; the cleanup removes it."""
    need(tracefs.has_probe_events("uprobe"), "no tracefs uprobe_events")
    child, _ = _child(target_bin, use_tracefs=True)
    child.send_signal(signal.SIGKILL)
    child.wait()
    mine = [n for n in tracefs.list_probe_events("uprobe") if f"_{child.pid}_" in n]
    assert len(mine) == 1
    # The kernel releases the perf event shortly after the process is reaped.
    assert _wait_gone(lambda: mine[0] not in tracefs.remove_stale_probe_events() and
                      mine[0] in tracefs.list_probe_events("uprobe"))
    assert mine[0] not in tracefs.list_probe_events("uprobe")


def test_uprobe_refuses_avx512_instruction(tmp_path):
    """A uprobe on an EVEX (AVX-512) instruction crashes every process that
    runs it on this kernel: pybcc refuses it before asking the kernel."""
    if os.uname().machine != "x86_64":
        pytest.skip("x86-64 only")
    import shutil
    from pybcc.attach.uprobe import attach_uprobe, attach_uprobe_multi
    binary = tmp_path / "evex"
    shutil.copy("/bin/true", binary)
    with open(binary, "r+b") as f:
        f.seek(0x1000)
        f.write(bytes([0x62, 0xE2, 0x7D, 0x48, 0x7A, 0xC6]))  # vpbroadcastb %esi,%zmm16
    with pytest.raises(AttachError, match="AVX-512"):
        attach_uprobe(-1, str(binary), offset=0x1000)
    with pytest.raises(AttachError, match="AVX-512"):
        attach_uprobe_multi(-1, str(binary), offsets=[0x1000])
