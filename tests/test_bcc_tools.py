"""bcc's own tools (Debian's bpfcc-tools, /usr/sbin/*-bpfcc), unmodified,
under `pybcc run`: each must work with data from the activity around it, or
refuse clearly because this kernel lacks what it needs (tests/bcc_tools.py
runs and classifies them).

Not part of the quick suite: select with `-m bcctools` (CI runs it as its
own step). All tools run once per session, three at a time, with a private
pybcc cache; each test reports one tool's result.
"""
import os
import subprocess
import time

import pytest

import bcc_tools

pytestmark = pytest.mark.bcctools



@pytest.fixture(scope="session")
def results(request, tmp_path_factory):
    if "bcctools" not in (request.config.getoption("-m") or ""):
        pytest.skip("bcc's tools run only when selected: pytest -m bcctools")
    if os.geteuid() != 0:
        pytest.skip("needs root")
    names = bcc_tools.tool_names()
    if not names:
        pytest.skip("bpfcc-tools is not installed (apt-get install bpfcc-tools)")
    only = os.environ.get("PYBCC_BCCTOOLS_ONLY")    # scripts/vm-bcctools.sh: a subset
    if only is not None:
        names = [n for n in names if n in only.replace(",", " ").split()]
    if os.environ.get("PYBCC_VMTEST"):
        # the VM's loopback starts down; the tcp* tools trace connections over it
        subprocess.run(["ip", "link", "set", "lo", "up"], check=False)
        _guest_kconfig()
        _guest_modules()
    old = os.environ.get("PYBCC_CACHE_DIR")
    # scripts/vm-bcctools.sh: a cache the host filled for this kernel
    # (bcc_tools.prepare_cache); else a private one.
    cache = os.environ.get("PYBCC_BCCTOOLS_CACHE", "").replace("{release}", os.uname().release)
    os.environ["PYBCC_CACHE_DIR"] = cache or str(tmp_path_factory.mktemp("pybcc-cache"))
    try:
        t0 = time.time()
        out = os.environ.get("PYBCC_BCCTOOLS_TABLE")     # where to write the table
        if out:
            out = out.replace("{release}", os.uname().release)
        kept = {}
        if out:
            names = bcc_tools.unseen_first(names, out)
            # scripts/vm-bcctools.sh rerunning some tools: keep the others' rows
            # (the rerun's own old rows too until their new ones come: a run
            # cut at its time limit still leaves every tool in the table)
            if os.environ.get("PYBCC_BCCTOOLS_KEEP") == "1" and os.path.exists(out):
                kept = bcc_tools.table_blocks(out)
        results = bcc_tools.run_all(names, progress=out, warm=not cache,
                                    kept=[ln for n in sorted(kept) for ln in kept[n]])
        if out:
            with open(out, "w") as f:
                f.write(bcc_tools.table(results, time.time() - t0, kept))
        return results
    finally:
        if old is None:
            os.environ.pop("PYBCC_CACHE_DIR", None)
        else:
            os.environ["PYBCC_CACHE_DIR"] = old


def _guest_kconfig():
    """The VM's /boot is the host's (writes land in the guest's tmpfs): put
    the guest kernel's config where Debian has it, for the CONFIG_* macros
    bcc programs test (opensnoop's CONFIG_ARCH_HAS_SYSCALL_WRAPPER).
    scripts/vm-bcctools.sh says where it is (PYBCC_BCCTOOLS_KCONFIG)."""
    release = os.uname().release
    src = os.environ.get("PYBCC_BCCTOOLS_KCONFIG", "").replace("{release}", release)
    dst = f"/boot/config-{release}"
    if src and os.path.exists(src) and not os.path.exists(dst):
        os.makedirs("/boot", exist_ok=True)
        with open(src, "rb") as f, open(dst, "wb") as g:
            g.write(f.read())


# Modules whose functions bcc's tools probe (mdflush: md_mod, nfsdist: nfs,
# nfsslower: nfsv4 too, ext4dist: ext4, ...): Debian builds them as modules
# and the VM's init loads none, so without them the tools find nothing to
# attach to.
GUEST_MODULES = ["md_mod", "nfs", "nfsv4", "nfsd", "ext4", "xfs", "btrfs", "loop"]


def _guest_modules():
    """Load GUEST_MODULES in the VM (its /lib/modules is the kernel package's),
    and put an ext4 file system where the activity writes (bcc_tools.EXT4_DIR),
    so the ext4 tools see real operations."""
    for mod in GUEST_MODULES:
        subprocess.run(["modprobe", mod], check=False, stderr=subprocess.DEVNULL)
    image = "/tmp/pybcc-ext4.img"
    os.makedirs(bcc_tools.EXT4_DIR, exist_ok=True)
    with open(image, "wb") as f:
        f.truncate(64 << 20)
    if subprocess.run(["mkfs.ext4", "-q", "-F", image], check=False).returncode == 0:
        subprocess.run(["mount", "-o", "loop", image, bcc_tools.EXT4_DIR], check=False)


def _tools():
    return bcc_tools.tool_names() or ["none"]


@pytest.mark.parametrize("tool", _tools())
def test_bcc_tool(results, tool):
    if tool not in results:
        pytest.skip("not selected (PYBCC_BCCTOOLS_ONLY)" if bcc_tools.tool_names()
                    else "bpfcc-tools is not installed")
    cls, detail, seconds, out, err, _started = results[tool]
    if cls == "needs":
        pytest.skip(f"{tool}: {detail}")
    # a failure for a reason that is not pybcc's (bcc_tools.EXPLAINED) is expected
    why = bcc_tools.explained(tool, os.uname().release)
    if cls == "fails" and why:
        pytest.xfail(f"{why} ({detail})")
    assert cls in ("works", "refuses"), \
        f"{tool} {cls}: {detail}\n--- stdout:\n{out[-2000:]}\n--- stderr:\n{err[-3000:]}"
