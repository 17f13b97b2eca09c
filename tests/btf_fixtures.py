"""Foreign kernel BTF for tests: Debian's 6.1 kernel, downloaded once and cached.

foreign_btf_path()        path of the raw BTF of Debian's linux-image-6.1.*-amd64
foreign_vmlinux_h_dir()   directory with a vmlinux.h generated from it

Both skip the calling test (pytest.skip) with the reason when the package
cannot be downloaded. The BTF is kept in the tests' own data directory
(tests/testdata.py: /var/cache/pybcc-test/btf/ by default), not in pybcc's cache.
"""
import fcntl
import glob
import os
import re
import subprocess
import tempfile

import pytest

from pybcc.btf import cgen
from pybcc.btf.extract import btf_from_vmlinuz
from testdata import data_dir

_memo = {}


def btf_cache_dir():
    return data_dir("btf")


def _debian_61_package():
    """Name of the newest Debian 6.1 amd64 kernel image package apt knows about."""
    out = subprocess.run(["apt-cache", "depends", "linux-image-amd64"],
                         capture_output=True, text=True).stdout
    m = re.search(r"Depends: (linux-image-6\.1\.\S+-amd64)\s*$", out, re.M)
    if m:
        return m.group(1)
    out = subprocess.run(["apt-cache", "search", "--names-only", r"^linux-image-6\.1\.[0-9.-]+-amd64$"],
                         capture_output=True, text=True).stdout
    names = sorted((line.split()[0] for line in out.splitlines() if line.strip()),
                   key=lambda n: [int(x) for x in re.findall(r"\d+", n)])
    return names[-1] if names else None


def _download_btf(dest_dir):
    pkg = _debian_61_package()
    if not pkg:
        raise RuntimeError("apt knows no linux-image-6.1.*-amd64 package")
    with tempfile.TemporaryDirectory(prefix="pybcc-deb-") as tmp:
        r = subprocess.run(["apt-get", "download", pkg], cwd=tmp, capture_output=True,
                           text=True, timeout=900)
        debs = glob.glob(os.path.join(tmp, "*.deb"))
        if r.returncode != 0 or not debs:
            raise RuntimeError(f"apt-get download {pkg} failed: {r.stderr.strip()[-300:]}")
        subprocess.run(["dpkg", "-x", debs[0], os.path.join(tmp, "x")], check=True)
        images = glob.glob(os.path.join(tmp, "x", "boot", "vmlinuz-*"))
        if not images:
            raise RuntimeError(f"{pkg} has no /boot/vmlinuz-*")
        image = images[0]
        data = btf_from_vmlinuz(image)
        path = os.path.join(dest_dir, os.path.basename(image).replace("vmlinuz-", "vmlinux-") + ".btf")
        fd, tmpf = tempfile.mkstemp(dir=dest_dir, prefix=".btf.")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmpf, 0o644)
        os.replace(tmpf, path)
        return path


def _cached():
    found = sorted(glob.glob(os.path.join(btf_cache_dir(), "vmlinux-6.1*.btf")))
    return found[-1] if found else None


def foreign_btf_path():
    """Path to the raw BTF of Debian's 6.1 kernel (downloaded on first use)."""
    if "btf" in _memo:
        return _memo["btf"]
    path = _cached()
    if path is None:
        d = btf_cache_dir()
        try:
            os.makedirs(d, mode=0o700, exist_ok=True)
        except OSError as e:
            pytest.skip(f"cannot create {d}: {e}")
        # One download even when several test processes ask at once.
        with open(os.path.join(d, ".lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            path = _cached()
            if path is None:
                try:
                    path = _download_btf(d)
                except (OSError, RuntimeError, ValueError, subprocess.SubprocessError) as e:
                    pytest.skip(f"no Debian 6.1 kernel BTF: {e}")
    _memo["btf"] = path
    return path


def foreign_vmlinux_h_dir():
    """Directory containing a vmlinux.h generated from the 6.1 BTF."""
    if "dir" not in _memo:
        _memo["dir"] = cgen.vmlinux_header(foreign_btf_path())
    return _memo["dir"]
