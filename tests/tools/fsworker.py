"""For the fsdist/fsslower tests: a file system of a given type on a loop
device, and a child that makes a known set of file operations on it and the
same on other file systems (which the tools must not report)."""
import os
import shutil
import subprocess
import sys

import pytest

from .kmod import load_modules
from .loopdev import loop_device

MARK = "pybcc-fsw-%d" % os.getpid()

# On a line from stdin: on the file system under test (argv[1]), then on each
# other directory (argv[2:]), the same operations; "done", then wait to be killed.
WORKER = r"""
import os, sys
dirs = sys.argv[1:]
mark = os.environ["MARK"]
sys.stdout.write("ready\n"); sys.stdout.flush()
sys.stdin.readline()
for i, d in enumerate(dirs):
    fd = os.open(os.path.join(d, mark + ("-file" if i == 0 else "-other%d" % i)),
                 os.O_CREAT | os.O_RDWR, 0o600)
    for _ in range(3):
        os.write(fd, b"w" * 4096)                 # 0, 4096, 8192
    os.pwrite(fd, b"p" * 10, 1 << 20)             # 1048576
    os.writev(fd, [b"v" * 4, b"v" * 6])           # 12288
    os.fsync(fd)
    os.pread(fd, 100, 4096)
    os.lseek(fd, 0, os.SEEK_SET)
    os.read(fd, 4096)
    os.read(fd, 4096)
    os.readv(fd, [bytearray(50)])                 # 8192
    os.fstat(fd)
    os.fstat(fd)
    os.close(fd)
    dfd = os.open(d, os.O_RDONLY)                 # a directory: not a file's open
    os.close(dfd)
sys.stdout.write("done\n"); sys.stdout.flush()
sys.stdin.readline()
"""

# (op, bytes, offset) of the operations above on the file system under test
WRITES = [(4096, 0), (4096, 4096), (4096, 8192), (10, 1 << 20), (10, 12288)]
READS = [(100, 4096), (4096, 0), (4096, 4096), (50, 8192)]
COUNTS = {"read": 4, "write": 5, "open": 1, "fsync": 1, "getattr": 2}



def fs_in_kernel(fstype):
    with open("/proc/filesystems") as f:
        return any(line.split()[-1] == fstype for line in f if line.strip())


@pytest.fixture(scope="module", params=["ext4", "xfs", "btrfs", "f2fs"])
def mounted(request):
    """(fstype, mount point) of a fresh file system on a loop device."""
    fstype = request.param
    if os.geteuid() != 0:
        pytest.skip("needs root")
    load_modules("loop", fstype)
    if not fs_in_kernel(fstype):
        pytest.skip(f"{fstype} is not in this kernel")
    if not shutil.which(f"mkfs.{fstype}"):
        pytest.skip(f"mkfs.{fstype} is not installed (scripts/setup.sh installs it)")
    with loop_device(size_mb=320 if fstype == "xfs" else 160, fstype=fstype) as (_, mnt):
        yield fstype, mnt


def other_dirs(fstype):
    """Directories on other file systems: tmpfs, and /var/tmp when it is not
    ``fstype`` (it is ext4 on the project machines)."""
    dirs = ["/dev/shm"] if fstype != "tmpfs" else []
    with open("/proc/self/mounts") as f:
        mounts = {line.split()[1]: line.split()[2] for line in f}
    var = max((m for m in mounts if "/var/tmp".startswith(m)), key=len)
    if mounts[var] != fstype:
        dirs.append("/var/tmp")
    return dirs


class Worker:
    """The child above, ready and waiting; ``run()`` makes its operations."""

    def __init__(self, fsdir, fstype):
        self.dirs = [fsdir] + other_dirs(fstype)
        self.proc = subprocess.Popen([sys.executable, "-c", WORKER, *self.dirs],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                     env=dict(os.environ, MARK=MARK))
        assert self.proc.stdout.readline() == "ready\n"
        self.pid = self.proc.pid

    def run(self):
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()
        assert self.proc.stdout.readline() == "done\n"

    def close(self):
        self.proc.kill()
        self.proc.wait()
        for i, d in enumerate(self.dirs):
            name = MARK + ("-file" if i == 0 else "-other%d" % i)
            try:
                os.unlink(os.path.join(d, name))
            except FileNotFoundError:
                pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
