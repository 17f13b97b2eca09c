"""Hand-built BPF programs and a tracepoint attach for the event reader tests.

The program fires on syscalls/sys_enter_getppid for this process only and
sends a record of 16 or 24 bytes: pid_tgid, a sequence number taken with an
atomic fetch-add on counters[0], and (24 bytes) the MARKER constant. A failed output increments counters[1], so the
tests know exactly how many records the kernel refused.
"""
import ctypes
import os

from pybcc import asm
from pybcc.kernel import bpf, uapi

TRACEPOINT = "syscalls/sys_enter_getppid"
TRACEFS = "/sys/kernel/tracing"

H_MAP_LOOKUP = 1
H_GET_PID_TGID = 14
H_PERF_OUTPUT = 25
H_RINGBUF_OUTPUT = 130
H_RINGBUF_RESERVE = 131
H_RINGBUF_SUBMIT = 132
H_RINGBUF_DISCARD = 133
BPF_F_CURRENT_CPU = 0xFFFFFFFF
BPF_RB_NO_WAKEUP = 1
FETCH = 0x01
MARKER = 0x5EED5EED


def possible_cpus():
    from pybcc.kernel.cpus import parse_cpu_list
    with open("/sys/devices/system/cpu/possible") as f:
        return parse_cpu_list(f.read())


def create_map(mtype, key_size, value_size, max_entries, name):
    return bpf.map_create(map_type=mtype, key_size=key_size, value_size=value_size,
                               max_entries=max_entries, map_name=name)


def perf_map():
    return create_map(uapi.MapType.PERF_EVENT_ARRAY, 4, 4, max(possible_cpus()) + 1, "events")


def ringbuf_map(size):
    return create_map(uapi.MapType.RINGBUF, 0, 0, size, "rb")


def counters_map():
    return create_map(uapi.MapType.ARRAY, 4, 8, 2, "counters")


def read_counter(fd, idx):
    val = ctypes.c_uint64()
    bpf.map_elem(uapi.Cmd.MAP_LOOKUP_ELEM, fd, ctypes.c_uint32(idx), val)
    return val.value


def _assemble(items):
    """Items are Insn, lists (ld_imm64), label strings, or
    ('jmp', op, reg, imm, label) for a forward/backward jump to a label."""
    flat, labels, pc = [], {}, 0
    for it in items:
        if isinstance(it, str):
            labels[it] = pc
        else:
            flat.append((pc, it))
            pc += len(it) if isinstance(it, list) else 1
    out = []
    for pc, it in flat:
        if isinstance(it, tuple):
            _, op, reg, imm, label = it
            it = asm.jmp_imm(op, reg, imm, labels[label] - pc - 1)
        out.extend(it if isinstance(it, list) else [it])
    return out


def _bump(counters_fd, idx, fetch_to=None):
    """counters[idx] += 1 (the old value into fetch_to); jumps to 'out' if absent."""
    add = asm.atomic_add64(0, 1, 0)  # *(u64 *)(r0 + 0) += r1
    if fetch_to is not None:
        add.imm |= FETCH
    items = [
        asm.st_mem(asm.W, 10, -28, idx),
        asm.ld_map_fd(1, counters_fd),
        asm.mov64_reg(2, 10), asm.alu64_imm(asm.ADD, 2, -28),
        asm.call_helper(H_MAP_LOOKUP),
        ("jmp", asm.JEQ, 0, 0, "out"),
        asm.mov64_imm(1, 1),
        add,
    ]
    if fetch_to is not None:
        items.append(asm.stx_mem(asm.DW, 10, 1, fetch_to))
    return items


def build_program(kind, out_fd, counters_fd, pid=None, rb_flags=0, size=16):
    """kind is 'perf' (bpf_perf_event_output), 'ringbuf' (bpf_ringbuf_output)
    or 'reserve' (bpf_ringbuf_reserve, then submit even sequence numbers and
    discard odd ones). The record is built at r10-24: pid_tgid, sequence
    number, MARKER."""
    assert size in (16, 24)
    pid = os.getpid() if pid is None else pid
    items = [
        asm.mov64_reg(6, 1),
        asm.call_helper(H_GET_PID_TGID),
        asm.mov64_reg(7, 0),
        asm.alu64_imm(asm.RSH, 0, 32),
        ("jmp", asm.JNE, 0, pid, "out"),
        asm.stx_mem(asm.DW, 10, 7, -24),
        asm.st_mem(asm.DW, 10, -8, MARKER),
    ]
    items += _bump(counters_fd, 0, fetch_to=-16)
    if kind == "perf":
        items += [
            asm.mov64_reg(1, 6), asm.ld_map_fd(2, out_fd),
            asm.ld_imm64(3, BPF_F_CURRENT_CPU),
            asm.mov64_reg(4, 10), asm.alu64_imm(asm.ADD, 4, -24),
            asm.mov64_imm(5, size),
            asm.call_helper(H_PERF_OUTPUT),
        ]
    elif kind == "ringbuf":
        items += [
            asm.ld_map_fd(1, out_fd),
            asm.mov64_reg(2, 10), asm.alu64_imm(asm.ADD, 2, -24),
            asm.mov64_imm(3, size), asm.mov64_imm(4, rb_flags),
            asm.call_helper(H_RINGBUF_OUTPUT),
        ]
    else:
        assert size == 16
        items += [
            asm.ld_map_fd(1, out_fd), asm.mov64_imm(2, size), asm.mov64_imm(3, 0),
            asm.call_helper(H_RINGBUF_RESERVE),
            ("jmp", asm.JEQ, 0, 0, "failed"),
            asm.ldx_mem(asm.DW, 1, 10, -24), asm.stx_mem(asm.DW, 0, 1, 0),
            asm.ldx_mem(asm.DW, 7, 10, -16), asm.stx_mem(asm.DW, 0, 7, 8),
            asm.mov64_reg(1, 0), asm.mov64_imm(2, rb_flags),
            asm.alu64_imm(asm.AND, 7, 1),
            ("jmp", asm.JNE, 7, 0, "discard"),
            asm.call_helper(H_RINGBUF_SUBMIT),
            ("jmp", asm.JA, 0, 0, "out"),
            "discard",
            asm.call_helper(H_RINGBUF_DISCARD),
            ("jmp", asm.JA, 0, 0, "out"),
        ]
    if kind != "reserve":
        items += [("jmp", asm.JEQ, 0, 0, "out")]
    items += ["failed"] + _bump(counters_fd, 1)
    items += ["out", asm.mov64_imm(0, 0), asm.exit_insn()]
    return _assemble(items)


def load(insns):
    code = asm.encode(insns)
    buf = ctypes.create_string_buffer(code, len(code))
    lic = ctypes.create_string_buffer(b"GPL")
    log = ctypes.create_string_buffer(1 << 16)
    fd, _ = bpf.prog_load(prog_type=uapi.ProgType.TRACEPOINT, insn_cnt=len(insns),
                               insns=bpf.addr(buf), license=bpf.addr(lic),
                               log_level=1, log_size=len(log), log_buf=bpf.addr(log))
    if fd < 0:
        raise OSError(-fd, "prog_load failed:\n" + log.value.decode(errors="replace"))
    return fd


def tracepoint_id(name=TRACEPOINT):
    with open(f"{TRACEFS}/events/{name}/id") as f:
        return int(f.read())


def attach_tracepoint(prog_fd, name=TRACEPOINT):
    """Returns the perf event fd; closing it detaches the program."""
    fd = bpf.perf_event_open(pid=-1, cpu=0,
                                  type=uapi.PERF_TYPE_TRACEPOINT, config=tracepoint_id(name),
                                  sample_period=1, wakeup_events=1)
    try:
        bpf.ioctl(fd, uapi.PERF_EVENT_IOC_SET_BPF, prog_fd)
        bpf.ioctl(fd, uapi.PERF_EVENT_IOC_ENABLE, 0)
    except BaseException:
        os.close(fd)
        raise
    return fd


class Probe:
    """Maps + program + attachment for one test; close() releases all."""

    def __init__(self, kind, ringbuf_size=1 << 16, rb_flags=0, size=16, pid=None):
        self.fds = []
        self.counters = self._keep(counters_map())
        self.out = self._keep(perf_map() if kind == "perf" else ringbuf_map(ringbuf_size))
        self.kind = kind
        self.prog = self._keep(load(build_program(kind, self.out, self.counters,
                                                  rb_flags=rb_flags, size=size, pid=pid)))
        self.link = self._keep(attach_tracepoint(self.prog))

    def _keep(self, fd):
        self.fds.append(fd)
        return fd

    @property
    def sent(self):
        return read_counter(self.counters, 0)

    @property
    def failed(self):
        return read_counter(self.counters, 1)

    def close(self):
        for fd in reversed(self.fds):
            os.close(fd)
        self.fds = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def trigger(n):
    getppid = os.getppid
    for _ in range(n):
        getppid()
