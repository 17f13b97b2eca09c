"""nfsslower/nfsdist and fsslower/fsdist -t nfs on a real NFS mount: an
NFSv4 server on loopback (the kernel's nfsd exporting a tmpfs, started by
hand with nfs-kernel-server's exportfs, rpc.mountd and rpc.nfsd; no systemd
needed), mounted at a temp dir; the fsworker child's known operations on it,
nothing from the same operations on other file systems. Needs nfsd and nfs in
the kernel: the VM's stock Debian kernels have them as modules."""
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile

import pytest

from .fsworker import COUNTS, MARK, READS, WRITES, Worker
from .kmod import load_modules
from .test_fsdist import check_fsdist_json, traced as traced_dist
from .test_fsslower import check_fsslower_json
from .toolrun import RunningTool

pytestmark = [pytest.mark.vm, pytest.mark.usefixtures("root")]

SBIN_PATH = os.environ.get("PATH", "") + ":/usr/sbin:/sbin"
TOOLS = ("exportfs", "rpc.mountd", "rpc.nfsd", "mount.nfs")


def run(*cmd, timeout=60):
    """Run a set-up step; fail with its output when it does not succeed."""
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    assert p.returncode == 0, f"{' '.join(cmd)}: {p.returncode}\n{p.stdout}{p.stderr}"


def filesystems():
    with open("/proc/filesystems") as f:
        return {line.split()[-1] for line in f if line.strip()}


def write_proc(path, value):
    """nfsd's grace and lease times are writable only while no nfsd runs."""
    with contextlib.suppress(OSError):
        with open(path, "w") as f:
            f.write(value)


@contextlib.contextmanager
def nfs_server(export):
    """nfsd exporting ``export`` (fsid=0: the NFSv4 root) to 127.0.0.1."""
    stack = contextlib.ExitStack()
    with stack:
        if not os.path.ismount("/proc/fs/nfsd"):
            run("mount", "-t", "nfsd", "nfsd", "/proc/fs/nfsd")
            stack.callback(subprocess.run, ["umount", "/proc/fs/nfsd"], capture_output=True)
        # A fresh nfsd refuses new opens for its grace period (90 s by default): 10 s is the least
        write_proc("/proc/fs/nfsd/nfsv4gracetime", "10")
        write_proc("/proc/fs/nfsd/nfsv4leasetime", "10")
        run("exportfs", "-i", "-o", "rw,fsid=0,no_root_squash,insecure,no_subtree_check,sync",
            f"127.0.0.1:{export}")
        stack.callback(subprocess.run, ["exportfs", "-ua"], capture_output=True)
        # NFSv4 only: neither daemon needs rpcbind then
        mountd = subprocess.Popen(["rpc.mountd", "-F", "-N", "2", "-N", "3"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        stack.callback(mountd.wait)
        stack.callback(mountd.kill)
        run("rpc.nfsd", "-N", "3", "-V", "4", "4")
        stack.callback(subprocess.run, ["rpc.nfsd", "0"], capture_output=True)
        yield


@pytest.fixture(scope="module")
def nfs_mount():
    """A directory on an NFSv4 mount of a loopback export of a tmpfs."""
    if os.geteuid() != 0:
        pytest.skip("needs root")
    load_modules("nfsd", "nfs", "nfsv4")
    have = filesystems()
    if "nfsd" not in have or "nfs4" not in have:
        pytest.skip(f"nfsd and nfs4 are not both in this kernel ({os.uname().release})")
    missing = [t for t in TOOLS if not shutil.which(t, path=SBIN_PATH)]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed (nfs-kernel-server, scripts/setup.sh)")
    os.environ["PATH"] = SBIN_PATH
    top = tempfile.mkdtemp(prefix="pybcc-nfs-")
    export, mnt = os.path.join(top, "export"), os.path.join(top, "mnt")
    os.mkdir(export)
    os.mkdir(mnt)
    with contextlib.ExitStack() as stack:
        stack.callback(shutil.rmtree, top, ignore_errors=True)
        run("mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", export)
        stack.callback(subprocess.run, ["umount", "-l", export], capture_output=True)
        stack.enter_context(nfs_server(export))
        run("mount", "-t", "nfs4", "-o", "vers=4.2,soft,timeo=100,retrans=3",
            "127.0.0.1:/", mnt, timeout=120)
        stack.callback(subprocess.run, ["umount", "-f", "-l", mnt], capture_output=True)
        # Wait out the grace period here, not inside a tool's run
        run(sys.executable, "-c", "import os,sys; p=sys.argv[1]; fd=os.open(p, os.O_CREAT|os.O_RDWR);"
            "os.write(fd, b'x'); os.fsync(fd); os.close(fd); os.unlink(p)",
            os.path.join(mnt, MARK + "-warmup"), timeout=180)
        yield mnt


@pytest.fixture
def nfs_dir(nfs_mount):
    """The mount, with the worker's file already there: by the kernel's source
    (fs/nfs/dir.c), NFSv4 creates a new file in nfs_atomic_open, whose
    finish_open does not call nfs4_file_open, so the open function (bcc's
    choice) would not see a creating open; an existing file's open does."""
    path = os.path.join(nfs_mount, MARK + "-file")
    open(path, "w").close()
    yield nfs_mount
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def uses_functions(stderr):
    from pybcc.kernel import features
    if features.has_fentry() or features.has_kprobes():
        assert "sys_exit" not in stderr, stderr
        assert "nfs_file_write" in stderr, stderr


def test_fsslower_on_nfs(nfs_dir, monkeypatch):
    monkeypatch.setenv("PYBCC_DEBUG", "1")
    t = check_fsslower_json("nfs", nfs_dir, timeout=300)
    uses_functions(t.stderr)


def test_fsdist_on_nfs(nfs_dir, monkeypatch):
    monkeypatch.setenv("PYBCC_DEBUG", "1")
    t = check_fsdist_json("nfs", nfs_dir, timeout=300)
    uses_functions(t.stderr)


def test_nfsslower_reads_writes_opens_getattrs(nfs_dir):
    """bcc's nfsslower: R, W, O and G (getattr) rows, no fsync's."""
    with Worker(nfs_dir, "nfs") as w:
        with RunningTool("nfsslower", "-p", w.pid, "0", timeout=300,
                         ready="Tracing NFS operations... Ctrl-C to quit") as t:
            w.run()
            t.wait_for(lambda ln: sum(x.endswith(MARK + "-file") for x in t.lines) >= 12,
                       timeout=20)
    assert not [ln for ln in t.lines if MARK + "-other" in ln], t.stdout
    rows = [ln.split() for ln in t.lines if ln.endswith(MARK + "-file")]
    got = sorted((r[3], int(r[4]), int(r[5])) for r in rows)
    want = sorted([("W", b, o // 1024) for b, o in WRITES] + [("R", b, o // 1024) for b, o in READS]
                  + [("O", 0, 0), ("G", 0, 0), ("G", 0, 0)])
    assert got == want, t.stdout


def test_nfsdist_counts(nfs_dir):
    t = traced_dist("nfsdist", nfs_dir, "nfs", "--json", timeout=300,
                    ready="Tracing NFS operation latency... Hit Ctrl-C to end.")
    [rec] = t.json_records()
    got = {h["labels"]["operation"]: sum(b["count"] for b in h["buckets"])
           for h in rec["histograms"]}
    assert got == {op: n for op, n in COUNTS.items() if op != "fsync"}, rec
