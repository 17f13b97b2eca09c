"""On every kernel, the feature probes tell the truth and the tools pick the
best mechanism the kernel offers. Runs on this host and, marked vm, on the
stock kernels in the VM (scripts/vm-tests.sh), where kprobes and fentry exist."""
import os
import signal
import subprocess
import sys

import pytest

from pybcc.kernel import features
from tools.kmod import load_modules
from tools.toolrun import communicate_or_fail, wait_until_waiting

pytestmark = [pytest.mark.vm, pytest.mark.usefixtures("root")]
IN_VM = os.environ.get("PYBCC_VMTEST") == "1"


def _pmu(name):
    return os.path.exists(f"/sys/bus/event_source/devices/{name}")


def test_feature_probes_tell_the_truth():
    assert features.has_kprobes() == _pmu("kprobe") or os.path.exists(
        "/sys/kernel/tracing/kprobe_events")
    assert features.has_uprobes()
    assert features.has_ringbuf()
    if IN_VM:   # Debian's stock kernels have kprobes and BPF trampolines
        assert features.has_kprobes() and features.has_fentry()


def _attachments(tool, *args):
    """What the tool attached (its PYBCC_DEBUG lines): start it, wait for its
    first output line (it prints after attaching), stop it with SIGINT."""
    env = dict(os.environ, PYBCC_DEBUG="1")
    p = subprocess.Popen([sys.executable, "-m", "pybcc", tool, *args], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        p.stdout.readline()
        # what is tested is the choice of attachment, not a Ctrl-C at the ready
        # line (tests/tools/test_interrupt_report.py): stop it in its loop
        wait_until_waiting(p, timeout=120)
    finally:
        p.send_signal(signal.SIGINT)
        _, err = communicate_or_fail(p, 600, f"{tool} did not stop on SIGINT")
    return [ln.split("attached ", 1)[1] for ln in err.splitlines()
            if ln.startswith("pybcc: attached ")]


def test_tcpconnect_picks_kprobes_where_the_kernel_has_them():
    got = _attachments("tcpconnect")
    if features.has_kprobes():
        assert any(a.startswith("kprobe") for a in got), got
    else:
        assert any("inet_sock_set_state" in a for a in got), got


def test_runqlat_picks_tp_btf_where_the_kernel_has_it():
    got = _attachments("runqlat")
    assert got, "runqlat attached nothing"
    if features.has_tp_btf():
        assert all(a.startswith("tp_btf") for a in got), got


def test_module_btf_fentry_and_core_on_xfs(tmp_path):
    """fentry on xfs_fs_statfs and a CO-RE read of struct xfs_mount, which
    only the xfs module's BTF has (/sys/kernel/btf/xfs)."""
    from pybcc import compiler, loader
    from pybcc.kernel import module_btf
    load_modules("xfs", "loop")      # modules on stock kernels
    if "xfs" not in module_btf.names():
        pytest.skip("no xfs module with BTF on this kernel (/sys/kernel/btf/xfs)")
    if not features.has_fentry():
        pytest.skip("fentry refused on this kernel")
    img, mnt = tmp_path / "xfs.img", tmp_path / "mnt"
    with open(img, "wb") as f:
        f.truncate(320 << 20)
    subprocess.run(["mkfs.xfs", "-q", str(img)], check=True)
    mnt.mkdir()
    subprocess.run(["mount", "-o", "loop", str(img), str(mnt)], check=True)
    try:
        path = os.path.join(os.path.dirname(__file__), "bpf", "module_btf.bpf.c")
        obj = compiler.compile(open(path).read(), filename=path)
        with loader.load(obj) as coll:
            coll.attach_all()
            for _ in range(5):
                os.statvfs(mnt)
            calls, matches = _global(coll, "calls"), _global(coll, "matches")
            assert calls >= 5 and matches == calls, (calls, matches)
    finally:
        subprocess.run(["umount", str(mnt)], check=False)


def _global(coll, name):
    """A u64 global of a loaded object (from its .bss map)."""
    import ctypes
    from pybcc.kernel import bpf
    v = coll.spec.variables[name]
    val = ctypes.create_string_buffer(coll.spec.maps[v.map_name].value_size)
    bpf.map_elem(1, coll.map_fds[v.map_name], ctypes.c_uint32(0), val)
    return int.from_bytes(val.raw[v.offset:v.offset + 8], "little")
