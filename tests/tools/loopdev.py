"""A loop block device of the test's own (only the test's I/O reaches it),
optionally with a file system made by mkfs and mounted."""
import contextlib
import os
import shutil
import subprocess
import tempfile

import pytest

from .kmod import modprobe


@contextlib.contextmanager
def loop_device(size_mb=64, fstype=None):
    """Yield (device name "loopN", mount point or None)."""
    if not shutil.which("losetup"):
        pytest.skip("losetup is not installed")
    if not os.path.exists("/dev/loop-control"):
        modprobe("loop")     # a module on stock kernels
    fd, backing = tempfile.mkstemp(prefix="pybcc-loop-", dir="/var/tmp")
    os.ftruncate(fd, size_mb << 20)
    os.close(fd)
    dev = mnt = None
    try:
        r = subprocess.run(["losetup", "-f", "--show", backing], capture_output=True, text=True)
        if r.returncode != 0:
            pytest.skip(f"no loop device: {r.stderr.strip()}")
        dev = r.stdout.strip()
        if fstype:
            subprocess.run([f"mkfs.{fstype}", "-q", dev], check=True, capture_output=True)
            mnt = tempfile.mkdtemp(prefix="pybcc-mnt-")
            subprocess.run(["mount", dev, mnt], check=True)
        if shutil.which("udevadm"):
            subprocess.run(["udevadm", "settle"], capture_output=True)   # udev probes it
        yield os.path.basename(dev), mnt
    finally:
        if mnt:
            subprocess.run(["umount", mnt], capture_output=True)
            os.rmdir(mnt)
        if dev:
            subprocess.run(["losetup", "-d", dev], capture_output=True)
        os.unlink(backing)


def direct_io(device, offsets, bs=4096):
    """One O_DIRECT write of ``bs`` bytes at each block index in ``offsets``."""
    import mmap
    buf = mmap.mmap(-1, bs)             # page-aligned, as O_DIRECT needs
    fd = os.open(f"/dev/{device}", os.O_WRONLY | os.O_DIRECT)
    try:
        for i in offsets:
            os.pwritev(fd, [buf], i * bs)
    finally:
        os.close(fd)
