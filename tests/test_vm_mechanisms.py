"""On every kernel, the feature probes tell the truth and the tools pick the
best mechanism the kernel offers. Runs on this host and, marked vm, on the
stock kernels in the VM (scripts/vm-tests.sh), where kprobes and fentry exist."""
import os
import signal
import subprocess
import sys

import pytest

from pybcc.kernel import features

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
    finally:
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=600)
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
