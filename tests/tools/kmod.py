"""Kernel modules the tests need. Stock kernels (the VMs) build loop, most
file systems, md and rdma as modules; the host's kernel has what it has
built in. modprobe comes from kmod (scripts/setup.sh installs it)."""
import shutil
import subprocess


def modprobe(name):
    """Load module ``name``: the CompletedProcess (text), or None when there
    is no modprobe on this machine."""
    if not shutil.which("modprobe"):
        return None
    return subprocess.run(["modprobe", name], capture_output=True, text=True, timeout=60)


def load_modules(*names):
    """Load what of ``names`` exists; the caller checks for what it needs."""
    for name in names:
        modprobe(name)
