"""A child process that does a known pattern of file reads and writes when
told to, for the tests of filetop, fileslower and dirtop; and the check that
their kprobe paths' tests (vm) can run."""
import os
import subprocess
import sys
import uuid

import pytest

from pybcc.kernel import features


def require_kprobes():
    """Skip without kprobes; in the VM (PYBCC_VMTEST) their absence fails."""
    if not features.has_kprobes():
        if os.environ.get("PYBCC_VMTEST"):
            pytest.fail("the VM kernel should have kprobes")
        pytest.skip("kprobes are not available on this kernel")

# On "go": in file DIR/TAG.dat, 10 write() of 4 KiB, 3 pwrite() of 8 KiB and
# 2 writev() of 2 x 1 KiB (15 writes, 68 KiB); then 5 read() of 4 KiB, 2
# pread() of 8 KiB, 1 readv() of 2 x 4 KiB (8 reads, 44 KiB); 3 write() of
# 100 bytes to /dev/null (a character device named "null"); then "done".
WORKER = r"""
import os, sys, threading, time
d, tag = sys.argv[1], sys.argv[2]
path = os.path.join(d, tag + ".dat")
os.write(1, b"ready\n")
sys.stdin.readline()
fd = os.open(path, os.O_CREAT | os.O_RDWR | os.O_TRUNC, 0o600)
for i in range(10):
    os.write(fd, b"w" * 4096)
for i in range(3):
    os.pwrite(fd, b"p" * 8192, 40960 + i * 8192)
for i in range(2):
    os.writev(fd, [b"a" * 1024, b"b" * 1024])
os.lseek(fd, 0, os.SEEK_SET)
for i in range(5):
    os.read(fd, 4096)
for i in range(2):
    os.pread(fd, 8192, 20480 + i * 8192)
os.readv(fd, [bytearray(4096), bytearray(4096)])
os.close(fd)
null = os.open("/dev/null", os.O_WRONLY)
for i in range(3):
    os.write(null, b"n" * 100)
os.close(null)
os.write(1, b"done\n")
sys.stdin.readline()
"""


class FileWorker:
    """The worker in ``directory``; ``run()`` does its I/O once."""

    def __init__(self, directory):
        self.tag = "pybcc" + uuid.uuid4().hex[:8]
        self.name = self.tag + ".dat"
        self.proc = subprocess.Popen([sys.executable, "-c", WORKER, directory, self.tag],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.pid = self.proc.pid
        assert self.proc.stdout.readline() == "ready\n"

    def run(self):
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()
        assert self.proc.stdout.readline() == "done\n"

    def close(self):
        self.proc.kill()
        self.proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
