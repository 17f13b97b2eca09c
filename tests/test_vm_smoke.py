"""Smoke test for the stock-kernel VM (scripts/vm-tests.sh).

It proves that the VM really gives us what this host lacks: a kprobe PMU, a
BPF kprobe program that attaches to it and fires, and fentry. It is written
with ctypes only (no pybcc internals) so that it keeps checking the VM runner
whatever happens to pybcc's own modules; the real attach tests live in
tests/test_attach.py.

Outside the VM the tests skip (with the reason) when the kernel lacks the
feature; inside the VM (PYBCC_VMTEST=1, set by scripts/vm-tests.sh) a missing
feature is a failure, so a broken VM setup cannot pass by skipping everything.
"""
import ctypes
import os
import struct

import pytest

pytestmark = pytest.mark.vm

IN_VM = os.environ.get("PYBCC_VMTEST") == "1"
KPROBE_PMU = "/sys/bus/event_source/devices/kprobe"
FUNC = "do_sys_openat2"  # what open(2) goes through on 5.6+

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
_libc.ioctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong]
NR_BPF, NR_PERF_EVENT_OPEN = 321, 298

BPF_MAP_CREATE, BPF_MAP_LOOKUP_ELEM, BPF_PROG_LOAD, BPF_RAW_TRACEPOINT_OPEN = 0, 1, 5, 17
BPF_MAP_TYPE_ARRAY = 2
BPF_PROG_TYPE_KPROBE, BPF_PROG_TYPE_TRACING = 2, 26
BPF_TRACE_FENTRY = 24
PERF_EVENT_IOC_ENABLE, PERF_EVENT_IOC_SET_BPF = 0x2400, 0x40042408


def need(cond, why):
    if not cond:
        if IN_VM:
            pytest.fail(f"in the VM but {why}")
        pytest.skip(why)


def _err(what):
    e = ctypes.get_errno()
    return OSError(e, f"{what}: {os.strerror(e)}")


def bpf(cmd, attr):
    buf = ctypes.create_string_buffer(bytes(attr), 160)
    ret = _libc.syscall(NR_BPF, cmd, buf, 160)
    if ret < 0:
        raise _err(f"bpf({cmd})")
    return ret, buf


def insn(code, dst=0, src=0, off=0, imm=0):
    return struct.pack("<BBhi", code, (src << 4) | dst, off, imm)


def counter_prog(map_fd):
    """Look up key 0 of an array map and atomically add 1 to its u64 value."""
    return b"".join([
        insn(0x62, dst=10, off=-4, imm=0),          # *(u32 *)(r10 - 4) = 0
        insn(0xBF, dst=2, src=10),                  # r2 = r10
        insn(0x07, dst=2, imm=-4),                  # r2 += -4
        insn(0x18, dst=1, src=1, imm=map_fd),       # r1 = map (ld_imm64 pseudo map fd)
        insn(0x00),
        insn(0x85, imm=1),                          # call bpf_map_lookup_elem
        insn(0x15, dst=0, off=2, imm=0),            # if r0 == 0 goto +2
        insn(0xB7, dst=1, imm=1),                   # r1 = 1
        insn(0xDB, dst=0, src=1, imm=0),            # lock *(u64 *)(r0 + 0) += r1
        insn(0xB7, dst=0, imm=0),                   # r0 = 0
        insn(0x95),                                 # exit
    ])


def make_counter():
    fd, _ = bpf(BPF_MAP_CREATE, struct.pack("<IIII", BPF_MAP_TYPE_ARRAY, 4, 8, 1))
    return fd


def read_counter(map_fd):
    key = ctypes.create_string_buffer(4)
    val = ctypes.create_string_buffer(8)
    bpf(BPF_MAP_LOOKUP_ELEM, struct.pack("<IIQQ", map_fd, 0, ctypes.addressof(key),
                                         ctypes.addressof(val)))
    return struct.unpack("<Q", val.raw)[0]


def load(prog_type, code, expected_attach_type=0, attach_btf_id=0):
    insns = ctypes.create_string_buffer(code, len(code))
    lic = ctypes.create_string_buffer(b"GPL")
    log = ctypes.create_string_buffer(65536)
    attr = bytearray(160)
    struct.pack_into("<IIQQIIQ", attr, 0, prog_type, len(code) // 8, ctypes.addressof(insns),
                     ctypes.addressof(lic), 1, len(log), ctypes.addressof(log))
    struct.pack_into("<I", attr, 68, expected_attach_type)
    struct.pack_into("<I", attr, 108, attach_btf_id)
    try:
        return bpf(BPF_PROG_LOAD, attr)[0]
    except OSError as e:
        raise OSError(e.errno, f"{e.strerror}\n{log.value.decode(errors='replace')}") from None


def trigger(n=5):
    for _ in range(n):
        os.close(os.open("/dev/null", os.O_RDONLY))


def test_kprobe_pmu_exists():
    need(os.path.isdir(KPROBE_PMU), f"this kernel has no kprobe PMU ({KPROBE_PMU})")
    with open(os.path.join(KPROBE_PMU, "type")) as f:
        assert int(f.read()) > 0


@pytest.mark.parametrize("retprobe", [False, True], ids=["kprobe", "kretprobe"])
def test_bpf_kprobe_fires(retprobe):
    need(os.path.isdir(KPROBE_PMU), f"this kernel has no kprobe PMU ({KPROBE_PMU})")
    with open(os.path.join(KPROBE_PMU, "type")) as f:
        pmu = int(f.read())
    map_fd = make_counter()
    prog_fd = load(BPF_PROG_TYPE_KPROBE, counter_prog(map_fd))
    name = ctypes.create_string_buffer(FUNC.encode())
    attr = bytearray(128)
    # type, size, config (bit 0: retprobe), ..., config1 = kprobe_func, config2 = offset
    struct.pack_into("<IIQ", attr, 0, pmu, 128, 1 if retprobe else 0)
    struct.pack_into("<QQ", attr, 56, ctypes.addressof(name), 0)
    abuf = ctypes.create_string_buffer(bytes(attr), 128)
    pfd = _libc.syscall(NR_PERF_EVENT_OPEN, abuf, -1, 0, -1, 8)  # PERF_FLAG_FD_CLOEXEC
    if pfd < 0:
        raise _err(f"perf_event_open(kprobe PMU, {FUNC})")
    try:
        assert _libc.ioctl(pfd, PERF_EVENT_IOC_SET_BPF, prog_fd) == 0, _err("SET_BPF")
        assert _libc.ioctl(pfd, PERF_EVENT_IOC_ENABLE, 0) == 0, _err("ENABLE")
        trigger()
        assert read_counter(map_fd) >= 5
    finally:
        for fd in (pfd, prog_fd, map_fd):
            os.close(fd)


def btf_func_id(name, path="/sys/kernel/btf/vmlinux"):
    """Type id of the BTF FUNC called ``name`` (a minimal BTF walk)."""
    data = open(path, "rb").read()
    magic, _, _, hdr_len, type_off, type_len, str_off, str_len = struct.unpack_from("<HBBIIIII", data)
    assert magic == 0xEB9F
    strs = data[hdr_len + str_off:hdr_len + str_off + str_len]
    want = strs.find(b"\0" + name.encode() + b"\0") + 1
    extra = {1: lambda v: 4, 3: lambda v: 12, 4: lambda v: 12 * v, 5: lambda v: 12 * v,
             6: lambda v: 8 * v, 13: lambda v: 8 * v, 14: lambda v: 4, 15: lambda v: 12 * v,
             17: lambda v: 4, 19: lambda v: 12 * v}
    pos, end, tid = hdr_len + type_off, hdr_len + type_off + type_len, 1
    while pos < end:
        name_off, info = struct.unpack_from("<II", data, pos)
        kind, vlen = (info >> 24) & 0x1F, info & 0xFFFF
        if kind == 12 and name_off == want:
            return tid
        pos += 12 + extra.get(kind, lambda v: 0)(vlen)
        tid += 1
    return None


def test_fentry_fires():
    need(os.path.exists("/sys/kernel/btf/vmlinux"), "no kernel BTF")
    func_id = btf_func_id(FUNC)
    need(func_id is not None, f"no BTF FUNC {FUNC}")
    map_fd = make_counter()
    try:
        prog_fd = load(BPF_PROG_TYPE_TRACING, counter_prog(map_fd), BPF_TRACE_FENTRY, func_id)
    except OSError as e:
        os.close(map_fd)
        need(False, f"fentry program load fails here: {e}")
    try:
        link_fd, _ = bpf(BPF_RAW_TRACEPOINT_OPEN, struct.pack("<QI", 0, prog_fd))
        trigger()
        assert read_counter(map_fd) >= 5
        os.close(link_fd)
    finally:
        os.close(prog_fd)
        os.close(map_fd)


def test_pybcc_importable():
    import pybcc
    assert pybcc.__version__
