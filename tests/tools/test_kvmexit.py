"""kvmexit against a tiny KVM guest (16-bit code: 100 port writes, then hlt)
run by a child through /dev/kvm: 100 I/O exits of that child. kvm:kvm_exit
fires only with kvm_intel/kvm_amd; this machine's KVM is kvm_pvm (its exits
do not show there: the tool says so, and the counting test is skipped)."""
import os
import subprocess
import sys

import pytest

from .badinput import assert_one_line_error
from .toolrun import RunningTool, run_tool

pytestmark = pytest.mark.usefixtures("root")

VENDOR_KVM = any(os.path.exists("/sys/module/" + m) for m in ("kvm_intel", "kvm_amd"))
HAS_KVM = os.path.exists("/dev/kvm")
WRITES = 100

# A guest: 16-bit code at 0x1000 writing its count of bytes to port 0x3f8, then hlt.
GUEST = r"""
import ctypes, fcntl, mmap, os, struct, sys
KVM_CREATE_VM, KVM_CREATE_VCPU, KVM_RUN, KVM_GET_VCPU_MMAP_SIZE = 0xAE01, 0xAE41, 0xAE80, 0xAE04
KVM_SET_USER_MEMORY_REGION, KVM_GET_SREGS, KVM_SET_SREGS = 0x4020AE46, 0x8138AE83, 0x4138AE84
KVM_SET_REGS, KVM_EXIT_IO, KVM_EXIT_HLT = 0x4090AE82, 2, 5
n = int(sys.argv[1])
sys.stdin.readline()
kvm = os.open("/dev/kvm", os.O_RDWR)
vm = fcntl.ioctl(kvm, KVM_CREATE_VM, 0)
mem = mmap.mmap(-1, 0x10000)
# mov cx, n; mov dx, 0x3f8; mov al, 'x'; loop: out dx, al; dec cx; jnz loop; hlt
code = bytes([0xb9]) + struct.pack("<H", n) + bytes([0xba, 0xf8, 0x03, 0xb0, 0x78,
                                                     0xee, 0x49, 0x75, 0xfc, 0xf4])
mem[0x1000:0x1000 + len(code)] = code
addr = ctypes.addressof(ctypes.c_char.from_buffer(mem))
fcntl.ioctl(vm, KVM_SET_USER_MEMORY_REGION, bytearray(struct.pack("IIQQQ", 0, 0, 0, 0x10000, addr)))
vcpu = fcntl.ioctl(vm, KVM_CREATE_VCPU, 0)
run = mmap.mmap(vcpu, fcntl.ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE))
sregs = bytearray(312)
fcntl.ioctl(vcpu, KVM_GET_SREGS, sregs)
struct.pack_into("QIH", sregs, 0, 0, 0xffff, 0)       # cs: base 0, selector 0
fcntl.ioctl(vcpu, KVM_SET_SREGS, sregs)
regs = bytearray(144)
struct.pack_into("Q", regs, 16 * 8, 0x1000)           # rip
struct.pack_into("Q", regs, 17 * 8, 2)                # rflags
fcntl.ioctl(vcpu, KVM_SET_REGS, regs)
ios = 0
while True:
    fcntl.ioctl(vcpu, KVM_RUN, 0)
    reason = struct.unpack_from("I", run, 8)[0]
    if reason == KVM_EXIT_IO:
        ios += 1
    elif reason == KVM_EXIT_HLT:
        break
    else:
        sys.exit("exit %d" % reason)
print(ios)
"""


def run_guest(tool_args, ready):
    child = subprocess.Popen([sys.executable, "-c", GUEST, str(WRITES)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    try:
        with RunningTool("kvmexit", "-p", child.pid, *tool_args, ready=ready) as t:
            out, _ = child.communicate("go\n", timeout=60)
    finally:
        child.kill()
        child.wait()
    assert child.returncode == 0 and int(out) == WRITES
    return child.pid, t


@pytest.mark.skipif(not HAS_KVM, reason="no /dev/kvm")
@pytest.mark.skipif(VENDOR_KVM, reason="KVM here is kvm_intel/kvm_amd")
def test_kvmexit_says_pvm_exits_do_not_show():
    r = run_tool("kvmexit", "1")
    assert r.returncode == 0, r.stderr
    assert "not kvm_intel/kvm_amd: its guests' exits may not show in kvm:kvm_exit" in r.stderr
    assert r.stdout.splitlines()[-1] == "%s%-35s %s" % ("PID      TID      ", "KVM_EXIT_REASON",
                                                        "COUNT")


@pytest.mark.skipif(not (HAS_KVM and VENDOR_KVM),
                    reason="kvm:kvm_exit fires only with kvm_intel/kvm_amd (none here)")
def test_kvmexit_counts_the_guests_io_exits():
    pid, t = run_guest([], ready="Display kvm exit reasons and statistics for PID")
    rows = [ln.rsplit(None, 1) for ln in t.lines[2:] if ln.strip()]
    counts = {name.strip(): int(n) for name, n in rows}
    assert counts.get("IO_INSTRUCTION", counts.get("IO")) == WRITES, t.stdout
    # most first
    assert list(counts.values()) == sorted(counts.values(), reverse=True)


@pytest.mark.skipif(not (HAS_KVM and VENDOR_KVM),
                    reason="kvm:kvm_exit fires only with kvm_intel/kvm_amd (none here)")
def test_kvmexit_json_all_tids():
    pid, t = run_guest(["-a", "--json"], ready="Display kvm exit reasons")
    records = t.json_records()
    assert all(r["pid"] == pid for r in records)
    assert sum(r["count"] for r in records if r["reason"] in ("IO", "IO_INSTRUCTION")) == WRITES


@pytest.mark.parametrize("args, message", [
    (["-v", "0"], "-v and -a need -p PID"),
    (["-t", "abc"], "invalid pid 'abc'"),
    (["0"], "must be positive"),
])
def test_kvmexit_bad_input_is_one_line(args, message):
    assert_one_line_error(run_tool("kvmexit", *args), message)
