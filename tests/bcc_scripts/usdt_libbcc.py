# libbcc's USDT entries (bcc.libbcc): bcc_usdt_foreach, bcc_usdt_get_location
# and bcc_usdt_get_argument on the distribution's python3, checked against
# what binutils' readelf -n says about python:function__entry.
import ctypes as ct
import os
import re
import shutil
import subprocess

from bcc import USDT
from bcc.libbcc import (BCC_USDT_ARGUMENT_FLAGS, bcc_usdt, bcc_usdt_argument,
                        bcc_usdt_location, lib)
from scriptlib import check, passed, skip

PYTHON = "/usr/bin/python3.11"
if not os.path.exists(PYTHON) or not shutil.which("readelf"):
    skip("needs %s and readelf" % PYTHON)
notes = subprocess.run(["readelf", "-n", PYTHON], capture_output=True, text=True).stdout
m = re.search(r"Provider: python\s+Name: function__entry\s+Location: (0x[0-9a-f]+), "
              r"Base: 0x[0-9a-f]+, Semaphore: (0x[0-9a-f]+)\s+Arguments: ([^\n]*)", notes)
if not m:
    skip(PYTHON + " has no python:function__entry probe")
address, semaphore, args = int(m.group(1), 16), int(m.group(2), 16), m.group(3).split()

ctx = USDT(path=PYTHON).get_context()
seen = []
lib.bcc_usdt_foreach(ctx, ct.CFUNCTYPE(None, ct.POINTER(bcc_usdt))(
    lambda p: seen.append((p.contents.provider, p.contents.name, p.contents.semaphore,
                           p.contents.num_arguments, p.contents.bin_path))))
entry = [s for s in seen if s[:2] == (b"python", b"function__entry")]
check(len(entry) == 1, "function__entry in %d probes" % len(seen))
check(entry[0][2:4] == (semaphore, len(args)), "semaphore/arguments %r" % (entry[0],))

loc = bcc_usdt_location()
check(lib.bcc_usdt_get_location(ctx, b"python", b"function__entry", 0, ct.byref(loc)) == 0,
      "get_location")
check(loc.address == address and os.path.samefile(loc.bin_path, PYTHON),
      "location %#x %r" % (loc.address, loc.bin_path))
check(lib.bcc_usdt_get_location(ctx, b"python", b"function__entry", 99, ct.byref(loc)) == -1,
      "a location that does not exist")

for i, text in enumerate(args):       # e.g. 8@%rbp, -4@%eax, 8@-16(%rbp)
    size, where = text.split("@")
    arg = bcc_usdt_argument()
    check(lib.bcc_usdt_get_argument(ctx, b"python", b"function__entry", 0, i,
                                    ct.byref(arg)) == 0, "get_argument %d" % i)
    check(arg.size == int(size), "argument %d size %d, readelf says %s" % (i, arg.size, size))
    check(arg.valid & BCC_USDT_ARGUMENT_FLAGS.BASE_REGISTER_NAME and arg.base_register_name,
          "argument %d register" % i)
    reg = re.search(r"%(\w+)", where).group(1)
    numbered = re.match(r"(r\d+)[dwb]?$", reg)          # %r12d is pt_regs' r12
    want = numbered.group(1) if numbered else reg[-2:]  # %eax, %rax are pt_regs' ax
    check(arg.base_register_name == want.encode(),
          "argument %d register %r, readelf says %s" % (i, arg.base_register_name, reg))
    check(bool(arg.valid & BCC_USDT_ARGUMENT_FLAGS.DEREF_OFFSET) == ("(" in where),
          "argument %d deref" % i)
passed("usdt_libbcc")
